"""autograd_c.cuda: there is no accelerator backend; these answer as torch does without one."""


def is_available():
    return False


def device_count():
    return 0
