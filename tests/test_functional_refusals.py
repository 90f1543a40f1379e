"""nn.functional refuses what torch's C++ functions refuse, with torch's exception type and
words: a non-Tensor argument, an integer input to a floating-point activation, a uint8 target
in the n-d loss kernel, ignore_index with class probabilities, a weight of more than 2 dims."""
import math
import re

import pytest

import autograd_c
import autograd_c.nn.functional as F

W = [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]

# (call, exception type, message); each call takes the module (autograd_c or torch) and its F
NOT_TENSOR = [
    (lambda m, f: f.relu([0]), "relu(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda m, f: f.relu(1, inplace=True),
     "relu_(): argument 'input' (position 1) must be Tensor, not int"),
    (lambda m, f: f.silu((1,)), "silu(): argument 'input' (position 1) must be Tensor, not tuple"),
    (lambda m, f: f.gelu([0], approximate="bogus"),
     "gelu(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda m, f: f.leaky_relu(0.5),
     "leaky_relu(): argument 'input' (position 1) must be Tensor, not float"),
    (lambda m, f: f.one_hot([0]),
     "one_hot(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda m, f: f.dropout("a", 0.5, False),
     "dropout(): argument 'input' (position 1) must be Tensor, not str"),
    (lambda m, f: f.dropout([0], math.nan),
     "dropout(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda m, f: f.layer_norm([0.0], [1]),
     "layer_norm(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda m, f: f.pad([0.0], [1, 1]),
     "pad(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda m, f: f.embedding(1, m.tensor(W)),
     "embedding(): argument 'indices' (position 2) must be Tensor, not int"),
    (lambda m, f: f.embedding(1, 2),
     "embedding(): argument 'weight' (position 1) must be Tensor, not int"),
    (lambda m, f: f.nll_loss(1, m.tensor([0])),
     "nll_loss_nd(): argument 'input' (position 1) must be Tensor, not int"),
    (lambda m, f: f.nll_loss(m.zeros(1, 2), [0]),
     "nll_loss_nd(): argument 'target' (position 2) must be Tensor, not list"),
    (lambda m, f: f.cross_entropy([0.0], m.tensor([0])),
     "cross_entropy_loss(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda m, f: f.cross_entropy(m.zeros(1, 2), 0),
     "cross_entropy_loss(): argument 'target' (position 2) must be Tensor, not int"),
]

NOT_FLOATING = [
    (lambda m, f: f.silu(m.zeros(2, dtype=m.int64)), "\"silu_cpu\" not implemented for 'Long'"),
    (lambda m, f: f.silu(m.zeros(2, dtype=m.bool), inplace=True),
     "\"silu_cpu\" not implemented for 'Bool'"),
    (lambda m, f: f.leaky_relu(m.zeros(2, dtype=m.uint8)),
     "\"leaky_relu_cpu\" not implemented for 'Byte'"),
    (lambda m, f: f.gelu(m.zeros(2, dtype=m.int32)),
     "\"GeluKernelImpl\" not implemented for 'Int'"),
    (lambda m, f: f.gelu(m.zeros(2, dtype=m.bool), approximate="tanh"),
     "\"GeluKernelImpl\" not implemented for 'Bool'"),
]

RUNTIME = [
    (lambda m, f: f.gelu(m.zeros(2, dtype=m.int64), approximate="bogus"),
     "approximate argument must be either none or tanh."),
    (lambda m, f: f.dropout(m.zeros(2), math.nan),
     "dropout probability has to be between 0 and 1, but got nan"),
    (lambda m, f: f.dropout(m.zeros(2), math.nan, False),
     "dropout probability has to be between 0 and 1, but got nan"),
    (lambda m, f: f.nll_loss(m.zeros(2, 3, 4), m.zeros(2, 4, dtype=m.uint8)),
     "expected scalar type Long but found Byte"),
    (lambda m, f: f.nll_loss(m.zeros(0, 3, 4), m.zeros(0, 4, dtype=m.uint8), reduction="none"),
     "expected scalar type Long but found Byte"),
    (lambda m, f: f.cross_entropy(m.zeros(2, 3, 2, 2), m.ones(2, 2, 2, dtype=m.uint8)),
     "expected scalar type Long but found Byte"),
    (lambda m, f: f.nll_loss(m.zeros(2, 3, 4), m.zeros(2, 5, dtype=m.uint8)),
     "Expected target size [2, 4], got [2, 5]"),
    (lambda m, f: f.cross_entropy(m.zeros(2, 3), m.full((2, 3), 1 / 3), ignore_index=1),
     "ignore_index is not supported for floating point target"),
    (lambda m, f: f.cross_entropy(m.zeros(2, 3), m.full((2, 3), 1 / 3), ignore_index=0,
                                  weight=m.ones(5)),
     "ignore_index is not supported for floating point target"),
    (lambda m, f: f.linear(m.zeros(2, 3), m.zeros(1, 4, 3)),
     "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    (lambda m, f: f.linear(m.zeros(2, 3), m.zeros(1, 4, 3), m.zeros(4)),
     "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    (lambda m, f: f.linear(m.zeros(()), m.zeros(1, 4, 3)),
     "both arguments to linear need to be at least 1D, but they are 0D and 3D"),
]

CASES = ([(c, TypeError, msg) for c, msg in NOT_TENSOR] +
         [(c, NotImplementedError, msg) for c, msg in NOT_FLOATING] +
         [(c, RuntimeError, msg) for c, msg in RUNTIME])
IDS = [msg[:50] for _, _, msg in CASES]


@pytest.mark.parametrize("call,exc,msg", CASES, ids=IDS)
def test_refused(call, exc, msg):
    with pytest.raises(exc, match=re.escape(msg) + "$"):
        call(autograd_c, F)


@pytest.mark.parametrize("call,exc,msg", CASES, ids=IDS)
def test_refused_as_torch_refuses(call, exc, msg):
    torch = pytest.importorskip("torch")
    with pytest.raises(exc, match=re.escape(msg) + "$"):
        call(torch, torch.nn.functional)


# what torch still answers near those refusals
ANSWERED = [
    lambda m, f: f.nll_loss(m.zeros(2, 3), m.tensor([0, 2], dtype=m.uint8)),
    lambda m, f: f.nll_loss(m.zeros(0, 3, 4), m.zeros(0, 4, dtype=m.uint8)),
    lambda m, f: f.nll_loss(m.zeros(2, 3, 0), m.zeros(2, 0, dtype=m.uint8), reduction="sum"),
    lambda m, f: f.cross_entropy(m.zeros(2, 3), m.full((2, 3), 1 / 3), ignore_index=-1),
    lambda m, f: f.linear(m.ones(2, 3), m.ones(4, 3), m.ones(4)),
]


@pytest.mark.parametrize("call", ANSWERED)
def test_answered_as_torch_answers(call):
    torch = pytest.importorskip("torch")
    ours, theirs = call(autograd_c, F), call(torch, torch.nn.functional)
    assert list(ours.shape) == list(theirs.shape)
    flat = [float(v) for v in ours.reshape(-1).tolist()]
    assert flat == pytest.approx(theirs.reshape(-1).tolist(), nan_ok=True)
