from autograd_c.nn.modules.module import Module
from autograd_c.nn.modules.linear import Linear, Identity, Flatten
from autograd_c.nn.modules.activation import (
    ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, LogSoftmax, GELU, SiLU,
)
from autograd_c.nn.modules.container import Sequential, ModuleList, ModuleDict
from autograd_c.nn.modules.loss import (
    MSELoss, L1Loss, CrossEntropyLoss, NLLLoss,
    BCELoss, BCEWithLogitsLoss, SmoothL1Loss, HuberLoss,
)
from autograd_c.nn.modules.dropout import Dropout
from autograd_c.nn.modules.sparse import Embedding
from autograd_c.nn.modules.normalization import LayerNorm
from autograd_c.nn.modules.conv import Conv1d, Conv2d
from autograd_c.nn.modules.pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from autograd_c.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
