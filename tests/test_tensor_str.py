"""Tests for autograd_c._tensor_str: tensor repr text identical to torch's.

The literal-string tests run with numpy only.  The comparison tests build the
same tensor in torch (skipped when torch is missing) and require our text to
equal ``repr(torch_tensor)`` when we are given torch's dtype names.
"""

import contextlib
import sys
import zlib

import numpy as np
import pytest

from autograd_c._tensor_str import format_tensor, get_printoptions, set_printoptions

# dtypes torch leaves out of the repr (default float32, int64, bool)
IMPLICIT_DTYPES = {np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_)}


def ours(array, grad_suffix=None, module="autograd_c"):
    array = np.asarray(array)
    return format_tensor(
        array,
        dtype_name=f"{module}.{array.dtype.name}",
        show_dtype=array.dtype not in IMPLICIT_DTYPES,
        grad_suffix=grad_suffix,
    )


@pytest.fixture(autouse=True)
def _reset_printoptions():
    """Leave default options behind, even when a test fails midway."""
    yield
    set_printoptions(profile="default")
    if "torch" in sys.modules:
        sys.modules["torch"].set_printoptions(profile="default")


# ---------------------------------------------------------------------------
# Literal expectations (no torch needed)
# ---------------------------------------------------------------------------

LITERAL_CASES = [
    (np.array([[5.0, 2.0], [6.0, 8.0]], np.float32), "requires_grad=True",
     "tensor([[5., 2.],\n        [6., 8.]], requires_grad=True)"),
    (np.array(32.25, np.float32), "grad_fn=<MeanBackward0>",
     "tensor(32.2500, grad_fn=<MeanBackward0>)"),
    (np.array([0.4, 4.0, 0.0004], np.float32), None,
     "tensor([4.0000e-01, 4.0000e+00, 4.0000e-04])"),
    (np.array([-12.0, -8.0], np.float32), "grad_fn=<MulBackward0>",
     "tensor([-12.,  -8.], grad_fn=<MulBackward0>)"),
    (np.array(True), None, "tensor(True)"),
    (np.array([True, True]), None, "tensor([True, True])"),
    (np.array([True, False]), None, "tensor([ True, False])"),
    (np.arange(30, dtype=np.float32) * 1.5, None,
     "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
     "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
     "        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n"
     "        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000])"),
    (np.arange(2000), None, "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (np.array([[1, -20], [300, 4]], np.int32), None,
     "tensor([[  1, -20],\n        [300,   4]], dtype=autograd_c.int32)"),
    (np.arange(24).reshape(2, 3, 4), None,
     "tensor([[[ 0,  1,  2,  3],\n         [ 4,  5,  6,  7],\n         [ 8,  9, 10, 11]],\n\n"
     "        [[12, 13, 14, 15],\n         [16, 17, 18, 19],\n         [20, 21, 22, 23]]])"),
    (np.zeros((0, 3), np.float32), None, "tensor([], size=(0, 3))"),
    (np.zeros(0, np.int64), None, "tensor([], dtype=autograd_c.int64)"),
    (np.zeros(0, np.float64), None, "tensor([], dtype=autograd_c.float64)"),
    (np.zeros((2, 0), np.int8), None, "tensor([], size=(2, 0), dtype=autograd_c.int8)"),
    (np.array([np.nan, -np.inf, 1.5, -200.25], np.float32), None,
     "tensor([      nan,      -inf,    1.5000, -200.2500])"),
    (np.array([1e10, -1e-10]), None, "tensor([ 1.0000e+10, -1.0000e-10], dtype=autograd_c.float64)"),
    (np.array([0.0, -0.0], np.float32), None, "tensor([0., -0.])"),
    (np.array([np.nan, np.nan], np.float32), None, "tensor([nan, nan])"),
    (np.array(np.nan, np.float32), None, "tensor(nan)"),
]


@pytest.mark.parametrize("array, suffix, expected", LITERAL_CASES)
def test_literal(array, suffix, expected):
    assert ours(array, suffix) == expected


def test_precision_option_and_reset():
    values = np.array([1.12345, -2.5], np.float32)
    set_printoptions(precision=2)
    assert get_printoptions()["precision"] == 2
    assert ours(values) == "tensor([ 1.12, -2.50])"
    set_printoptions(profile="default")
    assert ours(values) == "tensor([ 1.1235, -2.5000])"
    assert get_printoptions() == dict(
        precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None
    )


def test_profiles_and_sci_mode_reset():
    set_printoptions(profile="short", sci_mode=True)
    assert get_printoptions() == dict(
        precision=2, threshold=1000, edgeitems=2, linewidth=80, sci_mode=True
    )
    # Like torch, any later call without sci_mode returns it to automatic.
    set_printoptions(linewidth=100)
    assert get_printoptions()["sci_mode"] is None
    set_printoptions(profile="full")
    assert get_printoptions()["threshold"] == float("inf")
    assert "..." not in ours(np.arange(5000))


def test_threshold_and_edgeitems_literal():
    set_printoptions(threshold=5)
    assert ours(np.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    set_printoptions(edgeitems=0)
    assert ours(np.arange(10.0, dtype=np.float32)) == "tensor([...], size=(10,))"


# ---------------------------------------------------------------------------
# Comparison against torch
# ---------------------------------------------------------------------------


def _rng(seed):
    return np.random.default_rng(seed)


def _comparison_arrays():
    """(id, array) pairs covering every formatting rule."""
    cases = []

    def add(name, array):
        cases.append(pytest.param(np.asarray(array), id=name))

    shapes = [(), (1,), (5,), (37,), (100,), (4, 5), (3, 4, 5), (2, 3, 2, 4), (1001,), (40, 30), (11, 11, 11)]
    for dtype in (np.float16, np.float32, np.float64):
        for scale in (1e-8, 1e-3, 1.0, 10.0, 1e3, 1e6, 1e12):
            for shape in shapes:
                if dtype is np.float16 and scale >= 1e6:
                    continue  # overflows to inf; covered by the special cases
                name = f"randn-{np.dtype(dtype).name}-{scale:g}-{shape}"
                array = (_rng(zlib.crc32(name.encode())).standard_normal(shape) * scale).astype(dtype)
                add(name, array)
        for shape in [(6,), (3, 4), (50,), (1200,)]:
            array = _rng(len(shape)).integers(-50, 50, shape).astype(dtype)
            add(f"wholefloat-{np.dtype(dtype).name}-{shape}", array)

    int_ranges = {np.uint8: (0, 256), np.int8: (-128, 128), np.int16: (-30000, 30000),
                  np.int32: (-2**31, 2**31), np.int64: (-2**62, 2**62)}
    for dtype, (low, high) in int_ranges.items():
        for shape in [(), (7,), (3, 4), (2, 3, 4), (2000,), (50, 50)]:
            add(f"int-{np.dtype(dtype).name}-{shape}", _rng(3).integers(low, high, shape).astype(dtype))
        add(f"smallint-{np.dtype(dtype).name}", _rng(4).integers(0, 10, (4, 30)).astype(dtype))
    add("int64-extremes", np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0]))

    for shape in [(), (3,), (4, 5), (2, 2, 3), (1500,)]:
        add(f"bool-{shape}", _rng(5).random(shape) > 0.5)
    add("bool-all-true", np.ones((2, 3), bool))

    for dtype in (np.bool_, np.uint8, np.int32, np.int64, np.float16, np.float32, np.float64):
        for shape in [(0,), (0, 3), (2, 0, 4), (3, 0)]:
            add(f"empty-{np.dtype(dtype).name}-{shape}", np.zeros(shape, dtype))

    nan, inf = np.nan, np.inf
    specials = {
        "zeros": np.zeros((3, 3)),
        "neg-zero": np.array([0.0, -0.0]),
        "neg-zero-frac": np.array([-0.0, 1.5, 2.25]),
        "all-nan": np.full((2, 3), nan),
        "all-inf": np.array([inf, -inf, inf]),
        "nan-inf-zero": np.array([nan, inf, -inf, 0.0]),
        "nan-int": np.array([nan, 1.0, -2.0, 100.0]),
        "nan-frac": np.array([nan, 0.5, -3.25, inf]),
        "inf-sci": np.array([1e-6, inf, -inf, nan, 5.0]),
        "huge": np.array([1e300, -1e300, 1.0]),
        "tiny": np.array([1e-300, 5e-324, -1e-310]),
        "big-int-valued": np.array([1e8, 2e8, 3.0]),
        "just-under-1e8": np.array([99999999.0, 1.0]),
        "ratio-1000": np.array([1.0, 1000.0]),
        "ratio-1001": np.array([1.0, 1001.0]),
        "min-1e-4": np.array([1e-4, 0.05]),
        "rounding-up": np.array([9.99996, 0.5]),
        "sci-rounding": np.array([9.99999e99, 1e-5]),
        "single-neg": np.array(-3.75),
        "single-big": np.array(123456789.0),
        "single-small": np.array(-0.00001234),
        "half-max": np.array([65504.0, -65504.0, 6e-8], np.float16),
        "half-frac": np.array([0.1, 0.2, 0.3333], np.float16),
        "float32-third": np.array([1 / 3, 2 / 3, -1.0], np.float32),
        "mixed-sign-wrap": (_rng(9).standard_normal(90) * 100).round(),
    }
    for name, array in specials.items():
        add(f"special-{name}", array)
        if array.dtype == np.float64:
            with np.errstate(over="ignore"):
                add(f"special-{name}-f32", array.astype(np.float32))

    base = _rng(11).standard_normal((6, 7, 8)).astype(np.float32)
    add("transpose-3d", base.transpose(2, 0, 1))
    add("transpose-2d", base[0].T)
    add("strided", base[::2, 1::3, ::-1])
    add("reversed-1d", np.arange(40.0)[::-1])
    add("fortran", np.asfortranarray(_rng(12).integers(-9, 9, (5, 6))))
    add("transpose-summarised", _rng(13).standard_normal((30, 50)).T)
    add("4d-summarised", _rng(14).standard_normal((8, 8, 8, 8)).astype(np.float32))
    add("wide-rows", _rng(15).standard_normal((2, 25)) * 1e5)
    return cases


COMPARISON_ARRAYS = _comparison_arrays()

# Print options applied identically to torch and to us.
OPTION_SETS = {
    "default": {},
    "precision2": dict(precision=2),
    "precision0": dict(precision=0),
    "precision8": dict(precision=8),
    "linewidth40": dict(linewidth=40),
    "linewidth150": dict(linewidth=150),
    "threshold20": dict(threshold=20),
    "edgeitems1": dict(edgeitems=1),
    "edgeitems0": dict(edgeitems=0),
    "sci-on": dict(sci_mode=True),
    "sci-off": dict(sci_mode=False),
    "short": dict(profile="short"),
    "full": dict(profile="full"),
}


@contextlib.contextmanager
def both_printoptions(torch, options):
    torch.set_printoptions(**options)
    set_printoptions(**options)
    try:
        yield
    finally:
        torch.set_printoptions(profile="default")
        set_printoptions(profile="default")


def torch_repr(torch, array, grad=None):
    # np.array(copy) keeps 0-d arrays 0-d (ascontiguousarray would not)
    tensor = torch.from_numpy(np.array(array, copy=True, order="C"))
    if grad == "requires_grad":
        tensor.requires_grad_(True)
    elif grad == "grad_fn":
        tensor = tensor.requires_grad_(True) * 1
    return repr(tensor)


def ours_as_torch(array, grad=None):
    """Our text with torch's module name in the dtype.

    Comparing with ``torch.`` swapped for ``autograd_c.`` afterwards would be
    wrong: the longer name legitimately moves suffixes onto a new line.
    """
    return ours(array, suffix_for(grad), module="torch")


def suffix_for(grad):
    return {None: None, "requires_grad": "requires_grad=True",
            "grad_fn": "grad_fn=<MulBackward0>"}[grad]


@pytest.mark.parametrize("array", COMPARISON_ARRAYS)
def test_matches_torch_default(array):
    torch = pytest.importorskip("torch")
    assert ours_as_torch(array) == torch_repr(torch, array)


@pytest.mark.parametrize("options", list(OPTION_SETS.values()), ids=list(OPTION_SETS))
@pytest.mark.parametrize("array", COMPARISON_ARRAYS[::3])
def test_matches_torch_with_options(array, options):
    torch = pytest.importorskip("torch")
    with both_printoptions(torch, options):
        assert ours_as_torch(array) == torch_repr(torch, array)


GRAD_ARRAYS = [p for p in COMPARISON_ARRAYS if np.issubdtype(p.values[0].dtype, np.floating)]


@pytest.mark.parametrize("grad", ["requires_grad", "grad_fn"])
@pytest.mark.parametrize("array", GRAD_ARRAYS[::2])
def test_matches_torch_grad_suffix(array, grad):
    torch = pytest.importorskip("torch")
    assert ours_as_torch(array, grad) == torch_repr(torch, array, grad)


@pytest.mark.parametrize("linewidth", [30, 45, 60, 79, 80, 81, 100])
@pytest.mark.parametrize("length", [1, 4, 9, 10, 11, 16, 17, 40])
def test_suffix_line_breaking(linewidth, length):
    """Suffixes move to their own line exactly where torch's do."""
    torch = pytest.importorskip("torch")
    array = (np.arange(length) * 1.25 - 3).astype(np.float64)
    with both_printoptions(torch, dict(linewidth=linewidth)):
        assert ours_as_torch(array, "grad_fn") == torch_repr(torch, array, "grad_fn")


# ---------------------------------------------------------------------------
# Property-based comparison against torch
# ---------------------------------------------------------------------------

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # the tests above still run without hypothesis
    hnp = None

if hnp is not None:
    DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
              np.float16, np.float32, np.float64]


    @st.composite
    def arrays_to_print(draw):
        dtype = np.dtype(draw(st.sampled_from(DTYPES)))
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=7))
        if dtype.kind == "f" and draw(st.booleans()):
            # "Nice" data: a scaled normal sample, possibly rounded to integers.
            seed = draw(st.integers(0, 2**32 - 1))
            scale = 10.0 ** draw(st.integers(-9, 12))
            array = _rng(seed).standard_normal(shape) * scale
            if draw(st.booleans()):
                array = array.round()
            with np.errstate(over="ignore"):
                array = array.astype(dtype)
        else:
            array = draw(hnp.arrays(dtype, shape))
        if array.ndim >= 2 and draw(st.booleans()):
            array = array.T  # non-contiguous
        return array


    print_options = st.fixed_dictionaries(
        {},
        optional={
            "precision": st.integers(0, 10),
            "threshold": st.integers(0, 200),
            "edgeitems": st.integers(0, 4),
            "linewidth": st.integers(10, 160),
            "sci_mode": st.sampled_from([True, False]),
        },
    )


    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(array=arrays_to_print(), options=print_options, grad=st.sampled_from([None, "requires_grad", "grad_fn"]))
    def test_property_matches_torch(array, options, grad):
        torch = pytest.importorskip("torch")
        if array.dtype.kind != "f":
            grad = None  # only float tensors can require grad
        with both_printoptions(torch, options):
            assert ours_as_torch(array, grad) == torch_repr(torch, array, grad)
