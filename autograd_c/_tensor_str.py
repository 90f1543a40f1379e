"""Text rendering of tensors, matching PyTorch 2.13's ``repr(tensor)`` exactly.

This module only needs numpy.  The caller hands over the tensor's data as a
numpy array plus the few facts numpy cannot know (the dtype's printed name,
whether torch would show it, and the autograd suffix); everything else --
number formatting, alignment, wrapping, summarisation -- is decided here.

The rendering happens in three steps:

1. ``_ElementFormatter`` looks at (a summary of) all values once and fixes a
   single style and column width, so that every element lines up.
2. ``_render`` walks the array recursively, producing nested brackets, line
   wrapping for the innermost dimension and ``...`` for elided parts.
3. ``_append_suffixes`` adds ``size=``, ``dtype=``, ``requires_grad=``/
   ``grad_fn=`` after the body, breaking the line when it would get too long.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterator

import numpy as np

__all__ = ["format_tensor", "set_printoptions", "get_printoptions", "printoptions"]


# ---------------------------------------------------------------------------
# Print options
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTS = _PrintOptions()

# Values installed by ``set_printoptions(profile=...)``; explicit keyword
# arguments given in the same call override them.
_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
) -> None:
    """Set tensor printing options (same meaning and defaults as torch).

    precision: digits after the decimal point (default 4).
    threshold: element count above which the output is summarised (1000).
    edgeitems: items kept at each end of a summarised dimension (3).
    linewidth: characters per line before wrapping (80).
    profile: "default", "short" or "full" preset, applied first.
    sci_mode: True/False forces scientific notation on/off; None lets the
        formatter decide.  Like torch, every call resets it to the argument,
        so omitting it goes back to automatic.
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(_OPTS, name, value)
    explicit = dict(
        precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth
    )
    for name, value in explicit.items():
        if value is not None:
            setattr(_OPTS, name, value)
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Current options, as keyword arguments accepted by set_printoptions()."""
    return dataclasses.asdict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs) -> Iterator[None]:
    """Temporarily change print options inside a ``with`` block."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ---------------------------------------------------------------------------
# Element formatting
# ---------------------------------------------------------------------------


def _is_float(array: np.ndarray) -> bool:
    return np.issubdtype(array.dtype, np.floating)


def _extreme_values(values: np.ndarray) -> list:
    """The few values whose printed form can be the widest.

    With a fixed number of decimals (or mantissa digits) the printed length
    never shrinks as the magnitude grows (more integer digits) or, in
    scientific form, as it shrinks (a 3-digit exponent); a minus sign adds
    one.  So the widest text always comes from the smallest or largest
    magnitude of either sign, and checking those four values avoids a Python
    loop over every element.
    """
    picks = []
    for part in (values[values > 0], values[values < 0]):
        if part.size:
            picks += [part.min(), part.max()]
    return [float(v) for v in picks]


def _integral_extremes(values: np.ndarray) -> list:
    """Values of an int/bool array whose ``str`` can be the longest.

    ``str`` of an integer grows with its magnitude, so the longest is either
    the largest or the most negative value.  For bools, "False" beats "True".
    """
    return [values.min().item(), values.max().item()]


class _ElementFormatter:
    """Chooses one printed style and width for all elements of a tensor."""

    def __init__(self, values: np.ndarray):
        values = values.reshape(-1)
        self.precision = _OPTS.precision
        self.is_float = _is_float(values)
        # A float tensor whose values are all whole numbers prints as "3."
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if self.is_float:
            self._choose_float_style(values)
        elif values.size:
            self.width = max(len(str(v)) for v in _integral_extremes(values))

    def _choose_float_style(self, values: np.ndarray) -> None:
        # Zeros, nan and inf say nothing about the scale of the data, so the
        # style and the width come only from the nonzero finite values.  If
        # there are none, everything stays at the defaults (integer style,
        # width 1, never scientific -- even if sci_mode is forced).
        finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitudes = np.abs(finite)
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if _OPTS.sci_mode is None:
            # Scientific when the values span over three orders of magnitude
            # or leave the range the fixed form shows well.  The ratio may
            # overflow to inf, which correctly counts as a wide span.
            with np.errstate(over="ignore"):
                wide_span = largest / smallest > 1000.0
            self.sci_mode = bool(wide_span or largest > 1.0e8 or smallest < 1.0e-4)
        else:
            self.sci_mode = _OPTS.sci_mode
        self.width = max(len(self._float_text(v)) for v in _extreme_values(finite))

    def _float_text(self, value: float) -> str:
        """The unpadded text of one float in the chosen style."""
        if self.sci_mode:
            return f"{value:.{self.precision}e}"
        if self.int_mode:
            # The trailing dot marks a float; nan/inf are already
            # recognisably floats and get none.
            text = f"{value:.0f}"
            return text if math.isinf(value) or math.isnan(value) else text + "."
        return f"{value:.{self.precision}f}"

    def format(self, value) -> str:
        """Right-aligned text of one element (a Python scalar)."""
        text = self._float_text(value) if self.is_float else str(value)
        return text.rjust(self.width)


# ---------------------------------------------------------------------------
# Summarisation
# ---------------------------------------------------------------------------


def _summarized_values(array: np.ndarray) -> np.ndarray:
    """All values that will actually be printed when summarising.

    The formatter is fitted to these only, so elided values cannot widen the
    columns.  Mirrors which items ``_render`` keeps, with one torch quirk: a
    1-D tensor with edgeitems=0 keeps everything here (``a[-0:]`` is the
    whole array), while deeper tensors with edgeitems=0 keep nothing.
    """
    edge = _OPTS.edgeitems
    if array.ndim == 0:
        return array.reshape(-1)
    if array.ndim == 1:
        if array.shape[0] > 2 * edge:
            return np.concatenate((array[:edge], array[-edge:]))
        return array
    if not edge:
        return array.reshape(-1)[:0]
    rows = _kept_indices(array.shape[0], edge)
    return np.concatenate([_summarized_values(array[i]).reshape(-1) for i in rows])


def _kept_indices(length: int, edge: int) -> list[int]:
    """Indices kept along a summarised dimension."""
    if length > 2 * edge:
        return list(range(edge)) + list(range(length - edge, length))
    return list(range(length))


# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------


def _render(array: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormatter) -> str:
    """Nested-bracket text of ``array``; ``indent`` is the column of its '['."""
    if array.ndim == 0:
        return fmt.format(array.item())
    if array.ndim == 1:
        return _render_row(array, indent, summarize, fmt)

    edge = _OPTS.edgeitems
    length = array.shape[0]
    if summarize and length > 2 * edge:
        kept = list(range(edge)) + [None] + list(range(length - edge, length))
    else:
        kept = list(range(length))
    # None marks the elided middle, shown as a bare "..." sub-block.
    parts = ["..." if i is None else _render(array[i], indent + 1, summarize, fmt) for i in kept]

    # Sub-blocks of an n-D tensor are separated by n-2 blank lines, and each
    # new block starts one column right of this bracket.
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _render_row(row: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormatter) -> str:
    """Innermost dimension: comma-separated items, wrapped to the line width."""
    edge = _OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and row.shape[0] > 2 * edge:
        # " ..." is one item wide so the dots sit under the column gap.
        items = _format_all(row[:edge], fmt) + [" ..."] + _format_all(row[-edge:], fmt)
    else:
        items = _format_all(row, fmt)

    # Every item counts as width + ", ".  Each line holds a whole number of
    # items (at least one), regardless of how long the final line ends up.
    per_line = max(1, math.floor((_OPTS.linewidth - indent) / (fmt.width + 2)))
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _format_all(row: np.ndarray, fmt: _ElementFormatter) -> list[str]:
    # tolist() yields Python floats (float16/32 widened exactly to double),
    # ints and bools, whose formatting is what torch uses via .item().
    return [fmt.format(v) for v in row.tolist()]


def _append_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Close the ``tensor(`` call, adding ``key=value`` suffixes.

    A suffix goes on a new line (aligned under the first element) when it
    would push the current line past the line width.  Torch's notion of the
    current line length is two more than the true length, which this keeps.
    """
    pieces = [text]
    line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_len + len(suffix) + 2 > _OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_len += len(suffix) + 2
    return "".join(pieces) + ")"


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

_PREFIX = "tensor("


def format_tensor(array, *, dtype_name: str, show_dtype: bool, grad_suffix: str | None = None) -> str:
    """Full ``repr`` text of a tensor holding ``array``'s data.

    dtype_name: printed after ``dtype=`` (e.g. "autograd_c.float64").
    show_dtype: True when the dtype is not one torch leaves implicit
        (float32, int64, bool).  Ignored for empty tensors, where torch shows
        every dtype except float32 because no values reveal it.
    grad_suffix: e.g. "requires_grad=True" or "grad_fn=<MulBackward0>".
    """
    array = np.asarray(array)
    indent = len(_PREFIX)
    suffixes = []
    if array.size == 0:
        # Shape is shown unless it is the plain (0,) that "[]" implies.
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if array.dtype != np.float32:
            suffixes.append(f"dtype={dtype_name}")
        body = "[]"
    else:
        # With edgeitems=0 the body may show no values at all, so the shape
        # is always given (even for tensors too small to be summarised).
        if not _OPTS.edgeitems:
            suffixes.append(f"size={tuple(array.shape)}")
        if show_dtype:
            suffixes.append(f"dtype={dtype_name}")
        body = _tensor_body(array, indent)
    if grad_suffix:
        suffixes.append(grad_suffix)
    return _append_suffixes(_PREFIX + body, suffixes, indent)


def _tensor_body(array: np.ndarray, indent: int) -> str:
    summarize = array.size > _OPTS.threshold
    fitted = _summarized_values(array) if summarize else array
    return _render(array, indent, summarize, _ElementFormatter(fitted))
