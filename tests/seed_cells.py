"""Parse and run the seed notebooks (Jupyter tutorials exported as text).

A seed file is markdown, then ``In [N]:`` and a code cell, then optionally the
cell's output, then more markdown.  Blank lines are the only separators, and
code, output and markdown may all contain them, so the boundaries are found
this way:

* a cell's text runs from its ``In [N]:`` line to the next one;
* its code is its first paragraph (run of non-blank lines), or its first
  ``CODE_PARAGRAPHS[(seed, label)]`` paragraphs when the cell's source itself
  has blank lines (the export does not mark where such code ends);
* then come the paragraphs that look like output (``OUTPUT_START``: a tensor,
  a numpy array, an object repr, True/False/None, an exception line, or
  Colab's download/warning noise), and everything after them is markdown.

Parsing checks itself: each cell's code must compile, and a paragraph taken
for markdown must not hold a Python statement (code cut off by a blank line
that the table misses), else it raises, naming the cell.
Test ids are ``seed001-In[12]``; the second ``In [0]:`` of a file (Colab cells
never run) is labelled ``0#2`` so ids stay unique.

Cells run in one namespace per notebook, in the calling process, with
``import torch`` / ``from torch.autograd import ...`` resolved to the target
package by a custom ``__import__`` in that namespace's builtins: ``sys.modules``
is never touched, so the real torch (imported by other tests) stays intact.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import importlib
import io
import os
import re
import traceback
import types
from pathlib import Path

# Cells whose source has blank lines: how many paragraphs of the cell are code.
CODE_PARAGRAPHS = {
    ("001", "23"): 2,  # print(...) lines, blank, `with torch.no_grad():` block
    ("001", "25"): 2,  # the while loop, blank lines, print(y)
    ("001", "26"): 2,  # v = ...; y.backward(v), blank, print(x.grad)
    ("002", "13"): 2,  # import torch, blank, a = ... / b = ...
    ("003", "7"): 3,  # code, NOTE comments, the displayed `torch_twos`
    ("003", "8"): 2,  # code, NOTE comments (the value shown is requires_grad_'s)
    ("004", "1"): 2,  # imports + %matplotlib, blank, import torch
    ("004", "13"): 2,  # W = torch.randn(...), blank, b = torch.randn(...)
}

CELL_MARKER = re.compile(r"In \[\s*(\d*)\s*\]:\s*")

# First line of a paragraph that is a cell's output rather than markdown.
OUTPUT_START = re.compile(
    r"""tensor\(                    # a tensor repr
      | \[+\s*-?\d                  # a numpy array
      | <\w+\ (object\ )?at\ 0x     # an object repr, Python's or Jupyter's
      | (True|False|None)$
      | [A-Za-z]\w*(Error|Exception):\   # the last line Jupyter shows of an error
      | Downloading:\ | HBox\(      # Colab: download message and progress bar
      | \s+return\ torch\.          # Colab: source line echoed by a warning
    """,
    re.X,
)

# Lines of expected output that are Colab/IPython noise, not the cell's output.
NOISE_LINE = re.compile(
    r"Downloading: |HBox\(|\s+return torch\.\w+\(|\S+\.py:\d+: \w*Warning: "
)

# Autograd node names printed by the old torch the tutorials ran on.
RENAMED = {"MmBackward": "MmBackward0"}

EXCEPTION_LINE = re.compile(r"([A-Za-z]\w*(?:Error|Exception)): (.*)")


@dataclasses.dataclass
class Cell:
    seed: str  # "001"
    label: str  # the N of "In [N]:", "0#2" for a repeated N
    code: str
    expected: str  # raw output text from the seed, "" if none shown
    line: int  # 1-based line of the "In [N]:" marker

    @property
    def test_id(self) -> str:
        return f"seed{self.seed}-In[{self.label}]"

    def expected_exception(self):
        """(exception name, message) when the tutorial shows the cell raising."""
        lines = normalise(self.expected, expected=True).splitlines()
        match = lines and EXCEPTION_LINE.fullmatch(lines[-1])
        return match.groups() if match else None


class SeedsMissing(FileNotFoundError):
    """The tutorial notebooks are not where the default looks, and nobody asked for them."""


def seeds_dir() -> Path:
    """$AUTOGRAD_C_SEEDS, else <repo>/../shared/seeds (tests/ is at the repo root).

    A clone on its own has no shared/ beside it: then SeedsMissing, and the replay is skipped.
    Named explicitly (CI names them), missing notebooks are an error instead, so a CI run can
    never pass by skipping them."""
    env = os.environ.get("AUTOGRAD_C_SEEDS")
    path = Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
    if not path.is_dir() or not any(path.glob("*.txt")):
        if not env:
            raise SeedsMissing(
                f"the tutorial notebooks are not beside this clone ({path}); to replay them, "
                "set AUTOGRAD_C_SEEDS to the folder that holds their .txt files"
            )
        raise FileNotFoundError(f"AUTOGRAD_C_SEEDS={env}: no seed notebooks (*.txt) there")
    return path


def load_seeds() -> dict[str, list[Cell]]:
    return {p.name.split("_")[0]: parse_seed(p) for p in sorted(seeds_dir().glob("*.txt"))}


def _strip_magics(code: str) -> str:
    # IPython magics (%matplotlib inline) are not Python; keep line numbers.
    return "\n".join("" if line.lstrip().startswith("%") else line for line in code.split("\n"))


def _has_statement(text: str) -> bool:
    try:
        return bool(ast.parse(text).body)
    except SyntaxError:
        return False


def parse_seed(path: Path) -> list[Cell]:
    seed = path.name.split("_")[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    markers = [i for i, line in enumerate(lines) if CELL_MARKER.fullmatch(line)]
    cells, seen = [], {}
    for k, start in enumerate(markers):
        end = markers[k + 1] if k + 1 < len(markers) else len(lines)
        number = CELL_MARKER.fullmatch(lines[start]).group(1)
        seen[number] = seen.get(number, 0) + 1
        label = number if seen[number] == 1 else f"{number}#{seen[number]}"

        # paragraphs as [first, last] line indexes; whitespace-only lines are blank
        paras = []
        for i in range(start + 1, end):
            if lines[i].strip():
                if paras and paras[-1][1] == i - 1:
                    paras[-1][1] = i
                else:
                    paras.append([i, i])
        n_code = CODE_PARAGRAPHS.get((seed, label), 1)
        code = "\n".join(lines[paras[0][0] : paras[n_code - 1][1] + 1]) if paras else ""
        rest = paras[n_code:]
        n_out = 0
        while n_out < len(rest) and OUTPUT_START.match(lines[rest[n_out][0]]):
            n_out += 1
        expected = "\n".join(lines[rest[0][0] : rest[n_out - 1][1] + 1]) if n_out else ""
        cell = Cell(seed, label, code, expected, start + 1)

        def bad_parse(why):
            return ValueError(f"{path}:{cell.line}: {cell.test_id}: {why}; fix CODE_PARAGRAPHS / OUTPUT_START")

        try:
            compile(_strip_magics(code), cell.test_id, "exec")
        except SyntaxError as e:
            raise bad_parse(f"parsed code is not Python ({e})") from e
        for first, last in rest[n_out:]:  # markdown (headings parse as bare comments)
            if _has_statement("\n".join(lines[first : last + 1])):
                raise bad_parse(f"line {first + 1} looks like code but was taken for markdown")
        cells.append(cell)
    return cells


# ---------------------------------------------------------------- comparison

def normalise(text: str, expected: bool = False) -> str:
    """Text as compared: no trailing blanks, addresses and old names unified."""
    lines = [line.rstrip() for line in text.splitlines()]
    if expected:
        lines = [line for line in lines if not NOISE_LINE.match(line)]
    text = "\n".join(lines).strip("\n")
    text = re.sub(r"<(\w+) at 0x", r"<\1 object at 0x", text)  # Jupyter's repr -> Python's
    text = re.sub(r"0x[0-9a-fA-F]+", "0x?", text)
    for old, new in RENAMED.items():
        text = re.sub(rf"\b{old}\b", new, text)
    return text


# A number as printed in the text (not the 0 of "MulBackward0" or "0x?").
_NUMBER_TOKEN = re.compile(r"(?<![\w.])-?\d+(?:\.\d*)?(?:e[+-]?\d+)?(?![\w.])")
# What a random value may print as: another sign, width, or notation.
_ANY_NUMBER = r"-?(?:\d+(?:\.\d*)?(?:e[+-]?\d+)?|inf|nan)"
# Lines a loop prints a data-dependent number of times (seed 001's while loop).
REPEATED_LINE = re.compile(r"iteration: \d+")
_SPACE = r"\s*"  # padding and line wrapping depend on the values


def _parts(text: str):
    for token in re.split(rf"({_NUMBER_TOKEN.pattern}|\s+)", text):
        if token.isspace():
            yield _SPACE
        elif _NUMBER_TOKEN.fullmatch(token):
            yield from (_SPACE, _ANY_NUMBER)  # torch pads numbers to a common width
        elif token:
            yield re.escape(token)


def structure_pattern(expected: str) -> re.Pattern:
    """Regex matching output of the same shape as `expected` (normalised) with
    any numbers, flexible spacing, and any count of REPEATED_LINE lines."""
    parts, previous_repeated = [], False

    def add(part):  # never two \s* in a row: a mismatch must fail fast, not backtrack exponentially
        if not (part == _SPACE and parts and parts[-1] == _SPACE):
            parts.append(part)

    for line in expected.splitlines():
        repeated = bool(REPEATED_LINE.fullmatch(line))
        if repeated and not previous_repeated:
            add(rf"(?:\s*{''.join(_parts(line))})*")
        elif not repeated:
            for part in (_SPACE, *_parts(line)):
                add(part)
        previous_repeated = repeated
    return re.compile("".join(parts))


# ---------------------------------------------------------------- running

@dataclasses.dataclass
class Result:
    stdout: str = ""  # printed text, plus the repr of a last-line expression
    exc: BaseException | None = None
    traceback: str = ""
    check_error: str = ""  # traceback of a failed after_cell check


def _stub_module(name: str, fromlist):
    """Empty modules for `name` and its parents (pandas, matplotlib.pyplot)."""
    parts = name.split(".")
    mods = [types.ModuleType(".".join(parts[: i + 1])) for i in range(len(parts))]
    for parent, child, part in zip(mods, mods[1:], parts[1:]):
        setattr(parent, part, child)
    return mods[-1] if fromlist else mods[0]


def _torchvision_stand_in(target: str):
    """`torchvision` for the seeds' ResNet-18 cells: target.models, built without downloads.

    The tutorials ask for pretrained=True, which needs the network. What the cells print does
    not depend on the weights, so the stand-in builds the same architecture from its default
    initialisation (target.models.resnet18 itself refuses pretrained=True with a clear error).
    """
    models = importlib.import_module(target + ".models")
    stand_in = types.ModuleType("torchvision")
    stand_in.models = types.SimpleNamespace(
        resnet18=lambda pretrained=False, **kwargs: models.resnet18(**kwargs))
    return stand_in


def _importer(target: str, stubbable=("pandas", "matplotlib")):
    """__import__ that maps torch[.x] to target[.x], torchvision to a stand-in over
    target.models, and stubs missing plotting libs."""
    real_import = builtins.__import__

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        top = name.split(".")[0]
        if level == 0 and top == "torch":
            module = importlib.import_module(target + name[len("torch"):])
            return module if fromlist else importlib.import_module(target)
        if level == 0 and name == "torchvision" and target != "torch":
            return _torchvision_stand_in(target)
        try:
            return real_import(name, globals, locals, fromlist, level)
        except ImportError:
            if level == 0 and top in stubbable:  # not ours: the seed only imports them
                return _stub_module(name, fromlist)
            raise

    return _import


def _run_cell(code: str, ns: dict, filename: str) -> None:
    """exec like Jupyter: print the repr of a last-line expression if not None."""
    tree = ast.parse(_strip_magics(code), filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), ns)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), filename, "eval"), ns)
        if value is not None:
            print(repr(value))


def run_notebook(cells, target: str, skip=frozenset(), after_cell=None) -> list[Result | None]:
    """Run `cells` in order in one namespace, `torch` being module `target`.

    Returns one Result per cell (None for labels in `skip`).  A cell that raises
    is recorded and the next cells still run, as in Jupyter.  `after_cell(cell,
    ns)` runs after each cell that did not raise; its failure is recorded in
    the cell's Result.check_error.
    """
    module = importlib.import_module(target)
    if hasattr(module, "manual_seed"):
        module.manual_seed(0)  # random cells vary, but reproducibly from run to run
    ns = {"__name__": "__main__", "__builtins__": {**vars(builtins), "__import__": _importer(target)}}
    results = []
    for cell in cells:
        if cell.label in skip:
            results.append(None)
            continue
        result, out = Result(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                _run_cell(cell.code, ns, f"<{cell.test_id}>")
        except Exception as e:
            result.exc, result.traceback = e, traceback.format_exc()
        result.stdout = out.getvalue()
        if result.exc is None and after_cell is not None:
            try:
                after_cell(cell, ns)
            except Exception:
                result.check_error = traceback.format_exc()
        results.append(result)
    return results
