"""Grad-mode switches: context managers that also work as decorators, as torch's do."""
import functools
import inspect

from autograd_c._C import (_inference_mode_enabled, _set_grad_enabled, _set_inference_mode,
                           is_grad_enabled)


class _GradModeSwitch:
    """Set grad mode to `_target` for a with-block or a decorated function, then restore it."""

    _target = None

    def __enter__(self):
        self._previous = is_grad_enabled()
        _set_grad_enabled(self._target)
        return None

    def __exit__(self, *exc):
        _set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generator(*args, **kwargs):
                gen = fn(*args, **kwargs)
                with self.__class__():
                    item = next(gen)
                while True:
                    try:
                        sent = yield item
                    except GeneratorExit:
                        gen.close()
                        raise
                    with self.__class__():
                        try:
                            item = gen.send(sent)
                        except StopIteration as stop:
                            return stop.value
            return generator

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapped

    def clone(self):
        return self.__class__()


class no_grad(_GradModeSwitch):
    """Ops inside do not record the backward graph."""

    _target = False

    def __init__(self, orig_func=None):
        if orig_func is not None and callable(orig_func):
            raise TypeError("no_grad takes no arguments; use @no_grad() as a decorator")


class enable_grad(_GradModeSwitch):
    """Ops inside record the backward graph, even within no_grad."""

    _target = True


class set_grad_enabled(_GradModeSwitch):
    """Sets grad mode at once; as a context manager, restores the previous mode on exit."""

    def __init__(self, mode):
        self._previous = is_grad_enabled()
        self._target = bool(mode)
        _set_grad_enabled(self._target)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        _set_grad_enabled(self._previous)
        mode = self._target

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapped

    def clone(self):
        return set_grad_enabled(self._target)


class inference_mode:
    """Like no_grad, and every tensor made inside is an inference tensor (is_inference()), which
    autograd refuses to save for backward or to update in place outside this mode. With
    mode=False inside it, tensors are made normal again. Works as a decorator too."""

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = (is_grad_enabled(), _inference_mode_enabled())
        if self.mode:
            _set_grad_enabled(False)
        _set_inference_mode(self.mode)

    def __exit__(self, *exc):
        _set_grad_enabled(self._previous[0])
        _set_inference_mode(self._previous[1])
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapped

    def clone(self):
        return inference_mode(self.mode)


def is_inference_mode_enabled():
    return _inference_mode_enabled()
