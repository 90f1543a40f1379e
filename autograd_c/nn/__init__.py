"""autograd_c.nn: Modules, Parameters and their initialisation, with torch.nn's API."""
from autograd_c.nn.parameter import Parameter
from autograd_c.nn.modules import (
    Module, Linear, Identity, Flatten,
    ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, LogSoftmax, GELU, SiLU,
    Sequential, ModuleList, ModuleDict,
    MSELoss, L1Loss, CrossEntropyLoss, NLLLoss,
    BCELoss, BCEWithLogitsLoss, SmoothL1Loss, HuberLoss,
    Dropout, Embedding, LayerNorm,
    Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d,
)
from autograd_c.nn import init
from autograd_c.nn import utils


def __getattr__(name):
    # functional is written separately; it is imported lazily so that nn imports without it
    if name == "functional":
        import importlib
        return importlib.import_module("autograd_c.nn.functional")
    raise AttributeError("module 'autograd_c.nn' has no attribute %r" % name)
