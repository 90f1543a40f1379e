"""autograd_c.models: ResNet-18/34/50 against torchvision's architecture.

torchvision is not needed: the `tv` fixture rebuilds torchvision's ResNet from torch.nn with the
same module names, so torch's state_dict, logits, gradients and SGD step are the oracle. Tests
that do not need torch (no downloads, parameter counts, initialisation) run without it.
"""
import collections
import copy

import numpy as np
import pytest

import autograd_c as ag
from autograd_c import models

# torchvision's documented parameter counts (models.ResNet18_Weights.DEFAULT.meta["num_params"])
TORCHVISION_NUM_PARAMS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032}
LAYERS = {"resnet18": ("BasicBlock", [2, 2, 2, 2]), "resnet34": ("BasicBlock", [3, 4, 6, 3]),
          "resnet50": ("Bottleneck", [3, 4, 6, 3])}
INPUT_SHAPES = [(1, 3, 64, 64), (2, 3, 32, 32)]


# -- torchvision's ResNet, rebuilt from torch.nn -----------------------------------------------

def _torchvision_resnet_classes(torch):
    """BasicBlock, Bottleneck and ResNet laid out as torchvision lays them out (registration
    order decides state_dict order and repr), for groups=1, width 64, no dilation."""
    tnn = torch.nn

    def conv3x3(in_planes, out_planes, stride=1):
        return tnn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1,
                          bias=False)

    def conv1x1(in_planes, out_planes, stride=1):
        return tnn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)

    class BasicBlock(tnn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class Bottleneck(tnn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv1x1(inplanes, planes)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.conv2 = conv3x3(planes, planes, stride)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.conv3 = conv1x1(planes, planes * 4)
            self.bn3 = tnn.BatchNorm2d(planes * 4)
            self.relu = tnn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            return self.relu(self.bn3(self.conv3(out)) + identity)

    class ResNet(tnn.Module):
        def __init__(self, block, layers, num_classes=1000, zero_init_residual=False):
            super().__init__()
            self.inplanes = 64
            self.conv1 = tnn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, 64, layers[0])
            self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
            self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
            self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512 * block.expansion, num_classes)
            for m in self.modules():
                if isinstance(m, tnn.Conv2d):
                    tnn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, tnn.BatchNorm2d):
                    tnn.init.ones_(m.weight)
                    tnn.init.zeros_(m.bias)
            if zero_init_residual:
                for m in self.modules():
                    last_bn = m.bn3 if isinstance(m, Bottleneck) else (
                        m.bn2 if isinstance(m, BasicBlock) else None)
                    if last_bn is not None:
                        tnn.init.zeros_(last_bn.weight)

        def _make_layer(self, block, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = tnn.Sequential(conv1x1(self.inplanes, planes * block.expansion,
                                                    stride),
                                            tnn.BatchNorm2d(planes * block.expansion))
            layers = [block(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
            return tnn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return {"BasicBlock": BasicBlock, "Bottleneck": Bottleneck, "ResNet": ResNet}


class TorchVision:
    """torch plus a torchvision-like resnet builder, and the reference ResNet-18 weights."""

    def __init__(self, torch):
        self.torch = torch
        self.classes = _torchvision_resnet_classes(torch)
        self.resnet18_state = self._reference_resnet18_state()

    def resnet(self, name, **kwargs):
        block, layers = LAYERS[name]
        return self.classes["ResNet"](self.classes[block], layers, **kwargs)

    def _reference_resnet18_state(self):
        """ResNet-18 weights with non-trivial batch norms: random affine parameters, and running
        statistics averaged over a few batches, so eval mode exercises every buffer while the
        activations stay of order one."""
        torch = self.torch
        torch.manual_seed(0)
        model = self.resnet("resnet18")
        bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        with torch.no_grad():
            for bn in bns:
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.normal_(0.0, 0.1)
                bn.momentum = None              # cumulative average over the batches below
            for _ in range(3):
                model(torch.randn(4, 3, 32, 32))
        for bn in bns:
            bn.momentum = 0.1
        return {k: v.clone() for k, v in model.state_dict().items()}

    def loaded_resnet18(self):
        model = self.resnet("resnet18")
        model.load_state_dict(self.resnet18_state)
        return model


@pytest.fixture(scope="module")
def tv():
    torch = pytest.importorskip("torch")
    # torch's OpenMP workers spin between calls and, on a small machine, take the cores our
    # single-threaded kernels run on next; one thread keeps this file fast
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield TorchVision(torch)
    torch.set_num_threads(threads)


# -- helpers ------------------------------------------------------------------------------------

def _numpy(t):
    return t.detach().numpy()


def _ours_loaded_from(state, values="torch"):
    model = models.resnet18()
    if values == "numpy":
        state = {k: v.numpy() for k, v in state.items()}
    assert repr(model.load_state_dict(state)) == "<All keys matched successfully>"
    return model


def _random_inputs(shape, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    labels = rng.random((shape[0], 1000))
    return x.astype(dtype), labels.astype(dtype)


def _relative_error(actual, expected):
    """Largest difference relative to the largest reference value: ResNet sums thousands of
    products per output, so values that cancel to ~0 carry the absolute error of the big ones."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape
    scale = np.abs(expected).max(initial=0.0)
    return np.abs(actual - expected).max(initial=0.0) / (scale if scale > 0 else 1.0)


def _assert_float32_agrees(ours32, torch32, torch64, rtol=1e-4):
    """Ours in float32 is as accurate as torch in float32, for each tensor of a pass (dicts of
    name -> array): within rtol of torch's float64 result, relative to the tensor's largest
    value. Where the pass amplifies rounding (train-mode batch norm over a few values per
    channel), torch's own float32 results are further off; the bound is then three times the
    furthest of them, measured over the whole pass, as one tensor's error is itself noisy."""
    torch_error = max(_relative_error(torch32[k], torch64[k]) for k in torch64)
    bound = max(rtol, 3 * torch_error)
    for name, value in ours32.items():
        error = _relative_error(value, torch64[name])
        assert error <= bound, (
            f"{name}: relative error {error:.2e} to torch float64, over the bound {bound:.2e} "
            f"(torch float32 is up to {torch_error:.2e} off)")


def _assert_same_state_values(ours, theirs):
    """Both state dicts as numpy: same keys in the same order, identical values."""
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert ours[key].dtype == value.dtype and np.array_equal(ours[key], value), key


def _state_numpy(model):
    return {k: _numpy(v).copy() for k, v in model.state_dict().items()}


def _layout(named):
    return [(name, tuple(t.shape), str(t.dtype).split(".")[-1]) for name, t in named]


# -- structure ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
def test_names_order_and_shapes_match_torchvision(tv, name):
    ours, theirs = getattr(models, name)(), tv.resnet(name)
    assert _layout(ours.named_parameters()) == _layout(theirs.named_parameters())
    assert _layout(ours.named_buffers()) == _layout(theirs.named_buffers())
    assert _layout(ours.state_dict().items()) == _layout(theirs.state_dict().items())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_repr_matches_torchvision(tv, name):
    ours, theirs = repr(getattr(models, name)()), repr(tv.resnet(name))
    print(ours)
    print(theirs)
    assert ours == theirs


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
def test_parameter_counts_are_torchvisions(name):
    model = getattr(models, name)()
    assert sum(p.numel() for p in model.parameters()) == TORCHVISION_NUM_PARAMS[name]
    assert all(p.requires_grad for p in model.parameters())


def test_parameter_counts_match_the_torch_built_models(tv):
    for name in LAYERS:
        theirs = sum(p.numel() for p in tv.resnet(name).parameters())
        assert theirs == TORCHVISION_NUM_PARAMS[name]   # the reference itself is torchvision's


@pytest.mark.parametrize("name, in_features", [("resnet18", 512), ("resnet50", 2048)])
def test_num_classes_changes_only_fc(tv, name, in_features):
    ours = getattr(models, name)(num_classes=10)
    assert (ours.fc.in_features, ours.fc.out_features) == (in_features, 10)
    assert tuple(ours.fc.weight.shape) == (10, in_features)
    assert tuple(ours.fc.bias.shape) == (10,)
    assert _layout(ours.state_dict().items()) == _layout(
        tv.resnet(name, num_classes=10).state_dict().items())
    if name == "resnet18":
        assert tuple(ours(ag.randn(2, 3, 32, 32)).shape) == (2, 10)


# -- no downloads -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
@pytest.mark.parametrize("kwargs", [{"pretrained": True}, {"weights": "DEFAULT"},
                                    {"weights": "IMAGENET1K_V1"}])
def test_pretrained_weights_are_refused_with_a_local_loading_recipe(name, kwargs):
    with pytest.raises(ValueError) as info:
        getattr(models, name)(**kwargs)
    message = str(info.value)
    assert "does not download" in message
    assert "weights=None" in message and "load_state_dict" in message


@pytest.mark.parametrize("kwargs", [{}, {"weights": None}, {"pretrained": False},
                                    {"weights": None, "progress": False}])
def test_no_weights_builds_a_fresh_model(kwargs):
    model = models.resnet18(**kwargs)
    assert isinstance(model, models.ResNet) and model.training
    assert isinstance(model.layer1[0], models.BasicBlock)


# -- initialisation -----------------------------------------------------------------------------

def _fraction_within_one_std(values):
    return np.mean(np.abs(values - values.mean()) <= values.std())


def test_default_init_is_kaiming_normal_fan_out_and_unit_batch_norm():
    ag.manual_seed(0)
    model = models.resnet50()      # covers 7x7, 3x3 and 1x1 convolutions
    convs = [m for m in model.modules() if isinstance(m, ag.nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, ag.nn.BatchNorm2d)]
    assert len(convs) == len(bns) == 53
    for conv in convs:
        w = _numpy(conv.weight).ravel().astype(np.float64)
        out_channels, _, kh, kw = conv.weight.shape
        expected_std = np.sqrt(2.0 / (out_channels * kh * kw))
        assert abs(w.std() / expected_std - 1) < 0.05, conv
        assert abs(w.mean()) < 0.05 * expected_std
    # normal, not uniform of the same std (a uniform has 57.7% within one std)
    w = _numpy(model.layer3[0].conv2.weight).ravel()
    assert abs(_fraction_within_one_std(w) - 0.6827) < 0.01
    for bn in bns:
        assert (_numpy(bn.weight) == 1).all() and (_numpy(bn.bias) == 0).all()
        assert (_numpy(bn.running_mean) == 0).all() and (_numpy(bn.running_var) == 1).all()
        assert bn.num_batches_tracked.item() == 0
    # fc keeps nn.Linear's default: uniform within 1/sqrt(fan_in)
    bound = 1 / np.sqrt(2048)
    fc = _numpy(model.fc.weight)
    assert np.abs(fc).max() <= bound and np.abs(fc).max() > 0.99 * bound
    assert np.abs(_numpy(model.fc.bias)).max() <= bound


def test_init_statistics_match_torchvision(tv):
    ours, theirs = models.resnet18(), tv.resnet("resnet18")
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        a, b = _numpy(p).astype(np.float64), q.detach().numpy().astype(np.float64)
        if b.std() == 0:
            assert (a == b).all(), name
        else:
            assert abs(a.std() / b.std() - 1) < 0.1, name


def test_zero_init_residual_zeroes_the_last_batch_norm_of_each_block():
    for name, last in [("resnet18", "bn2"), ("resnet50", "bn3")]:
        model = getattr(models, name)(zero_init_residual=True)
        for module_name, bn in model.named_modules():
            if not isinstance(bn, ag.nn.BatchNorm2d):
                continue
            is_last = module_name.startswith("layer") and module_name.endswith("." + last)
            assert (_numpy(bn.weight) == (0 if is_last else 1)).all(), module_name
            assert (_numpy(bn.bias) == 0).all()
    # so a block without downsampling starts as relu of its input
    block = models.resnet18(zero_init_residual=True).layer1[1]
    x = ag.randn(2, 64, 8, 8)
    np.testing.assert_array_equal(_numpy(block(x)), np.maximum(_numpy(x), 0))


def test_zero_init_residual_matches_torchvision(tv):
    def all_zero(named_parameters):
        return [name for name, p in named_parameters
                if name.endswith("weight") and not p.detach().numpy().any()]
    zeroed = all_zero(models.resnet18(zero_init_residual=True).named_parameters())
    assert len(zeroed) == 8
    assert zeroed == all_zero(tv.resnet("resnet18", zero_init_residual=True).named_parameters())


# -- torch's weights in our model: forward, backward, SGD --------------------------------------
# The seed's code runs unchanged with `lib` standing for torch or for autograd_c.

SeedPass = collections.namedtuple("SeedPass", "logits loss grads state")


def _seed_pass(lib, model, x, labels):
    """The seed's forward and backward: loss = (prediction - labels).sum(); loss.backward()."""
    prediction = model(lib.tensor(x))
    loss = (prediction - lib.tensor(labels)).sum()
    loss.backward()
    grads = {name: _numpy(p.grad).copy() for name, p in model.named_parameters()}
    return SeedPass(_numpy(prediction).copy(), loss.item(), grads, _state_numpy(model))


def _seed_training(lib, model, batches):
    """The seed's SGD(lr=1e-2, momentum=0.9) step, once per batch; the parameters after each."""
    optim = lib.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    after_each_step = []
    for x, labels in batches:
        optim.zero_grad()
        _seed_pass(lib, model, x, labels)
        optim.step()
        after_each_step.append({n: _numpy(p).copy() for n, p in model.named_parameters()})
    return after_each_step


class SeedRuns:
    """The seed's pass and training on the reference ResNet-18 weights, run once per case for
    torch and for us and shared by the tests that compare them."""

    def __init__(self, tv):
        self.tv = tv
        self._cache = {}

    def _model(self, lib, dtype, mode, values):
        """A fresh copy of the reference model (copying is cheaper than building and loading)."""
        loaded = self._cached(("loaded", lib.__name__, values), lambda: (
            _ours_loaded_from(self.tv.resnet18_state, values) if lib is ag
            else self.tv.loaded_resnet18()))
        model = copy.deepcopy(loaded)
        model = model.double() if dtype is np.float64 else model
        return model.train(mode == "train")

    def _cached(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def seed_pass(self, lib, shape, mode, dtype=np.float32, values="torch"):
        def compute():
            x, labels = _random_inputs(shape, seed=1, dtype=dtype)
            return _seed_pass(lib, self._model(lib, dtype, mode, values), x, labels)
        return self._cached(("pass", lib.__name__, shape, mode, dtype, values), compute)

    def seed_training(self, lib, dtype, steps=1):
        def compute():
            batches = [_random_inputs((1, 3, 64, 64), seed=10 + i, dtype=dtype)
                       for i in range(steps)]
            return _seed_training(lib, self._model(lib, dtype, "train", "torch"), batches)
        return self._cached(("training", lib.__name__, dtype, steps), compute)


@pytest.fixture(scope="module")
def runs(tv):
    return SeedRuns(tv)


SHAPE_IDS = ["1x3x64x64", "2x3x32x32"]
MODES = ["train", "eval"]


@pytest.mark.parametrize("values", ["torch", "numpy"])
def test_loading_torch_or_numpy_values_copies_them_exactly(tv, values):
    ours = _ours_loaded_from(tv.resnet18_state, values)
    _assert_same_state_values(_state_numpy(ours),
                              {k: v.numpy() for k, v in tv.resnet18_state.items()})
    assert ours.layer4[1].bn2.num_batches_tracked.item() == 3


@pytest.mark.parametrize("shape", INPUT_SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("values", ["torch", "numpy"])
def test_logits_match_torch(runs, shape, mode, values):
    ours = runs.seed_pass(ag, shape, mode, values=values)
    torch32 = runs.seed_pass(runs.tv.torch, shape, mode)
    torch64 = runs.seed_pass(runs.tv.torch, shape, mode, np.float64)
    assert ours.logits.shape == (shape[0], 1000) and ours.logits.dtype == np.float32
    _assert_float32_agrees({"logits": ours.logits}, {"logits": torch32.logits},
                           {"logits": torch64.logits})
    _assert_float32_agrees({"loss": ours.loss}, {"loss": torch32.loss}, {"loss": torch64.loss})


@pytest.mark.parametrize("shape", INPUT_SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("values", ["torch", "numpy"])
def test_running_stats_after_the_forward_match_torch(runs, shape, mode, values):
    ours = runs.seed_pass(ag, shape, mode, values=values).state
    torch32 = runs.seed_pass(runs.tv.torch, shape, mode).state
    torch64 = runs.seed_pass(runs.tv.torch, shape, mode, np.float64).state
    loaded = {k: v.numpy() for k, v in runs.tv.resnet18_state.items()}
    if mode == "eval":
        _assert_same_state_values(ours, loaded)       # eval mode leaves the buffers alone
        return
    assert list(ours) == list(torch32)
    running = [k for k in torch32 if "running" in k]
    assert len(running) == 2 * 20
    for key in torch32:
        if key.endswith("num_batches_tracked"):
            assert ours[key] == torch32[key] == loaded[key] + 1, key
        elif key in running:                        # batch statistics mixed in with momentum
            assert not np.array_equal(ours[key], loaded[key]), key
        else:
            assert np.array_equal(ours[key], loaded[key]), key
    _assert_float32_agrees({k: ours[k] for k in running}, torch32, torch64)


@pytest.mark.parametrize("shape", INPUT_SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("mode", MODES)
def test_gradients_match_torch(runs, shape, mode):
    ours = runs.seed_pass(ag, shape, mode)
    torch32 = runs.seed_pass(runs.tv.torch, shape, mode)
    torch64 = runs.seed_pass(runs.tv.torch, shape, mode, np.float64)
    assert list(ours.grads) == list(torch32.grads) and len(ours.grads) == 62
    for name, grad in ours.grads.items():
        assert grad.dtype == np.float32 and np.abs(grad).max() > 0, name
    _assert_float32_agrees(ours.grads, torch32.grads, torch64.grads)


@pytest.mark.parametrize("shape", INPUT_SHAPES, ids=SHAPE_IDS)
def test_float64_train_pass_matches_torch_closely(runs, shape):
    """Train mode in float64, where rounding is out of the way: the float32 bounds above are
    loose for the 2x3x32x32 batch (two values per channel in layer4's batch norms), these
    are not."""
    ours = runs.seed_pass(ag, shape, "train", np.float64)
    theirs = runs.seed_pass(runs.tv.torch, shape, "train", np.float64)
    assert ours.logits.dtype == np.float64
    assert _relative_error(ours.logits, theirs.logits) < 1e-9
    for name, grad in ours.grads.items():
        assert _relative_error(grad, theirs.grads[name]) < 1e-8, name
    for key, value in ours.state.items():
        assert _relative_error(value, theirs.state[key]) < 1e-9, key


def _updates(params_after_each_step, before):
    """What each step added to the parameters."""
    updates = []
    for after in params_after_each_step:
        updates.append({n: after[n].astype(np.float64) - before[n] for n in after})
        before = after
    return updates


def test_sgd_momentum_steps_match_torch(runs):
    """The seed's training step in float32, then two steps in float64, where the momentum
    buffer counts in the second. Float32 updates are compared rather than parameters (a
    parameter's error is lr times its gradient's, which says nothing about the step), and only
    the first: after it, torch's own float32 update is up to ~10% off its float64 one."""
    torch = runs.tv.torch
    before = {k: v.numpy() for k, v in runs.tv.resnet18_state.items()}
    ours, theirs = (_updates(runs.seed_training(lib, np.float32), before) for lib in (ag, torch))
    ours64, theirs64 = (_updates(runs.seed_training(lib, np.float64, steps=2), before)
                        for lib in (ag, torch))
    assert all(np.abs(update).max() > 0 for update in ours[0].values())
    _assert_float32_agrees(ours[0], theirs[0], theirs64[0])
    for step in range(2):
        for name, update in ours64[step].items():
            assert _relative_error(update, theirs64[step][name]) < 1e-7, (step, name)


def test_resnet50_eval_logits_match_torch(tv):
    torch = tv.torch
    torch.manual_seed(1)
    theirs = tv.resnet("resnet50").eval()
    ours = models.resnet50().eval()
    ours.load_state_dict(theirs.state_dict())
    x, _ = _random_inputs((1, 3, 32, 32), seed=3)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    with ag.no_grad():
        got = _numpy(ours(ag.tensor(x)))
    assert _relative_error(got, expected) < 1e-4


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_low_precision_torch_checkpoint_loads_as_float32(tv, dtype_name):
    """torch copies a half or bfloat16 checkpoint into float32 parameters; so do we."""
    torch = tv.torch
    low = {k: v.to(getattr(torch, dtype_name)) if v.is_floating_point() else v
           for k, v in tv.resnet18_state.items()}
    theirs = tv.resnet("resnet18")
    theirs.load_state_dict(low)
    ours = _ours_loaded_from(low)
    assert all(p.dtype is ag.float32 for p in ours.parameters())
    _assert_same_state_values(_state_numpy(ours), _state_numpy(theirs))


# -- load_state_dict errors ---------------------------------------------------------------------

def _torch_message(exc):
    return str(exc).replace("torch.Size", "autograd_c.Size")


def _both_refuse(tv, state, **kwargs):
    """Loads `state` (torch tensors) into both models; returns (our message, torch's)."""
    with pytest.raises(RuntimeError) as theirs:
        tv.resnet("resnet18").load_state_dict(state, **kwargs)
    with pytest.raises(RuntimeError) as ours:
        models.resnet18().load_state_dict(state, **kwargs)
    return str(ours.value), _torch_message(theirs.value)


def test_wrong_shape_message_is_torchs(tv):
    torch = tv.torch
    state = dict(tv.resnet18_state)
    state["fc.weight"] = torch.zeros(10, 512)
    state["layer2.0.downsample.1.running_var"] = torch.ones(64)
    ours, theirs = _both_refuse(tv, state)
    assert "size mismatch for fc.weight" in theirs
    assert ours == theirs
    numpy_state = {k: v.numpy() for k, v in state.items()}
    with pytest.raises(RuntimeError) as info:
        models.resnet18().load_state_dict(numpy_state)
    assert str(info.value) == theirs


def test_missing_and_unexpected_key_messages_are_torchs(tv):
    torch = tv.torch
    state = dict(tv.resnet18_state)
    del state["layer1.0.bn1.running_var"], state["fc.bias"]
    state["layer1.0.conv1.bias"] = torch.zeros(64)       # under an existing module
    state["layer5.0.conv1.weight"] = torch.zeros(1)      # under a module that does not exist
    state["head"] = torch.zeros(1)
    ours, theirs = _both_refuse(tv, state)
    assert theirs.startswith("Error(s) in loading state_dict for ResNet:\n\tMissing key(s)")
    assert ours == theirs
    # strict=False reports the same keys instead of raising
    ours_keys = models.resnet18().load_state_dict(state, strict=False)
    theirs_keys = tv.resnet("resnet18").load_state_dict(state, strict=False)
    assert ours_keys.missing_keys == theirs_keys.missing_keys
    assert ours_keys.unexpected_keys == theirs_keys.unexpected_keys


def test_all_error_kinds_together_and_non_tensor_value(tv):
    torch = tv.torch
    state = dict(tv.resnet18_state)
    del state["conv1.weight"]
    state["extra"] = torch.zeros(1)
    state["fc.bias"] = torch.zeros(10)
    state["bn1.weight"] = 3.0
    ours, theirs = _both_refuse(tv, state)
    assert "Tensor-like object" in theirs and "size mismatch" in theirs
    assert ours == theirs


def test_partial_state_with_strict_false_loads_what_matches(tv):
    state = {k: v for k, v in tv.resnet18_state.items() if not k.startswith("fc.")}
    ours = models.resnet18()
    fc_before = _numpy(ours.fc.weight).copy()
    result = ours.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc.weight", "fc.bias"] and result.unexpected_keys == []
    np.testing.assert_array_equal(_numpy(ours.fc.weight), fc_before)
    np.testing.assert_array_equal(_numpy(ours.conv1.weight), state["conv1.weight"].numpy())


def test_checkpoint_without_num_batches_tracked_loads_as_in_torch(tv):
    """Checkpoints written before torch 0.4.1 have no num_batches_tracked. Without version
    metadata (a plain dict, as when values are converted one by one) torch accepts them and
    keeps the model's own counters; torch's own state_dict() says version 2, and then the
    counters are required."""
    plain = {k: v for k, v in tv.resnet18_state.items() if "num_batches_tracked" not in k}
    theirs = tv.resnet("resnet18")
    assert repr(theirs.load_state_dict(plain)) == "<All keys matched successfully>"
    ours = models.resnet18()
    assert repr(ours.load_state_dict(plain)) == "<All keys matched successfully>"
    assert ours.layer1[0].bn1.num_batches_tracked.item() == 0
    _assert_same_state_values(_state_numpy(ours), _state_numpy(theirs))

    versioned = tv.resnet("resnet18").state_dict()
    for key in [k for k in versioned if "num_batches_tracked" in k]:
        del versioned[key]
    ours_message, theirs_message = _both_refuse(tv, versioned)
    assert '"bn1.num_batches_tracked"' in theirs_message
    assert ours_message == theirs_message


# -- save / load --------------------------------------------------------------------------------

def test_save_load_round_trip_gives_identical_logits(tmp_path):
    ag.manual_seed(0)
    model = models.resnet18()
    with ag.no_grad():
        model(ag.randn(4, 3, 32, 32))   # train-mode forward: running stats move off 0 and 1
    model.eval()
    path = tmp_path / "resnet18.pt"
    ag.save(model.state_dict(), path)
    state = ag.load(path)
    assert list(state) == list(model.state_dict())
    restored = models.resnet18()
    restored.load_state_dict(state)
    restored.eval()
    for key, value in model.state_dict().items():
        assert _numpy(restored.state_dict()[key]).tobytes() == _numpy(value).tobytes(), key
    x = ag.randn(2, 3, 32, 32)
    with ag.no_grad():
        np.testing.assert_array_equal(_numpy(restored(x)), _numpy(model(x)))
