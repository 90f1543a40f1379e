"""autograd_c.viz: DOT text of the backward graph, read back and checked node by node."""
import collections
import re
import shutil
import sys
import types

import pytest

import autograd_c
import autograd_c.viz as viz

ACC_NAME = "torch::autograd::AccumulateGrad"

# -- a reader for the DOT subset to_dot writes ------------------------------------------------

NODE_LINE = re.compile(r'^\s*(\w+)\s*\[label="((?:[^"\\]|\\.)*)"')
EDGE_LINE = re.compile(r"^\s*(\w+)\s*->\s*(\w+)\s*;")


def unescape(text):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


class Graph:
    """Labels by node id, and edges as a list, so that repeated edges stay countable."""

    def __init__(self, dot):
        assert dot.lstrip().startswith("digraph")
        assert dot.rstrip().endswith("}")
        self.labels = {}
        self.edges = []
        for line in dot.splitlines():
            node, edge = NODE_LINE.match(line), EDGE_LINE.match(line)
            if node:
                assert node.group(1) not in self.labels, "node declared twice: " + line
                self.labels[node.group(1)] = unescape(node.group(2))
            elif edge:
                self.edges.append(edge.groups())
        for a, b in self.edges:
            assert a in self.labels and b in self.labels, "edge to an undeclared node"

    def title(self, node_id):
        return self.labels[node_id].split("\n")[0]

    def titles(self):
        return collections.Counter(self.title(n) for n in self.labels)

    def edge_titles(self):
        return collections.Counter((self.title(a), self.title(b)) for a, b in self.edges)

    def sources(self):
        """Nodes nothing points to: the leaves, since arrows run inputs -> consumers."""
        targets = {b for _, b in self.edges}
        return [n for n in self.labels if n not in targets]

    def sinks(self):
        """Nodes that point nowhere: the output tensors."""
        starts = {a for a, _ in self.edges}
        return [n for n in self.labels if n not in starts]


def parse(tensors, **kwargs):
    return Graph(viz.to_dot(tensors, **kwargs))


def reachable_names(grad_fn):
    """Multiset of node names behind grad_fn, one per distinct node, found independently of viz."""
    names, seen, stack = collections.Counter(), set(), [grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names[node.name()] += 1
        stack.extend(n for n, _ in node.next_functions)
    return names


def leaf(*shape):
    return autograd_c.randn(*shape, requires_grad=True)


# -- graphs -----------------------------------------------------------------------------------

def test_small_expression_nodes_and_exact_edges():
    x, w, b = leaf(2, 3), leaf(2, 3), leaf(3)
    out = ((x * w) + b).sum()
    g = parse(out, params={"x": x, "w": w, "b": b}, show_saved=False)
    assert sorted(g.labels.values()) == sorted([
        "x\n(2, 3)", "w\n(2, 3)", "b\n(3)",
        "MulBackward0", "AddBackward0", "SumBackward0", "()"])
    assert g.edge_titles() == collections.Counter([
        ("x", "MulBackward0"), ("w", "MulBackward0"),
        ("MulBackward0", "AddBackward0"), ("b", "AddBackward0"),
        ("AddBackward0", "SumBackward0"), ("SumBackward0", "()")])


def test_unnamed_leaves_show_only_their_shape():
    x, w = leaf(4), leaf(2, 4)
    g = parse(x * w, params={"w": w}, show_saved=False)
    assert sorted(g.labels[n] for n in g.sources()) == ["(4)", "w\n(2, 4)"]
    assert [g.labels[n] for n in g.sinks()] == ["(2, 4)"]


def make_mlp(nn):
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_sequential_parameters_are_named():
    model = make_mlp(autograd_c.nn)
    loss = model(autograd_c.randn(5, 4)).sum()
    g = parse(loss, params=dict(model.named_parameters()))
    # Linear(i, o) holds weight (o, i) and bias (o); the input needs no grad, so is no leaf
    assert sorted(g.labels[n] for n in g.sources()) == sorted([
        "0.weight\n(3, 4)", "0.bias\n(3)", "2.weight\n(2, 3)", "2.bias\n(2)"])
    drawn = dot_node_names(g)
    assert drawn == reachable_names(loss.grad_fn)
    assert drawn["AddmmBackward0"] == 2 and drawn["ReluBackward0"] == 1


def dot_node_names(g):
    """Node names as torch spells them, read from the picture: leaves count as AccumulateGrad."""
    outputs, leaves = set(g.sinks()), set(g.sources())
    names = collections.Counter(g.title(n) for n in g.labels if n not in outputs | leaves)
    names[ACC_NAME] += len(leaves)
    return names


def test_sequential_node_names_match_torch():
    torch = pytest.importorskip("torch")
    ours = make_mlp(autograd_c.nn)
    theirs = make_mlp(torch.nn)
    our_loss = ours(autograd_c.randn(5, 4)).sum()
    their_loss = theirs(torch.randn(5, 4)).sum()
    expected = reachable_names(their_loss.grad_fn)
    assert expected[ACC_NAME] == 4
    assert dot_node_names(parse(our_loss, params=dict(ours.named_parameters()))) == expected


def test_shared_subexpression_is_drawn_once_with_two_edges():
    x = leaf(3)
    y = x * x
    z = y + y
    g = parse(z, params={"x": x}, show_saved=False)
    assert g.titles() == collections.Counter(
        {"x": 1, "MulBackward0": 1, "AddBackward0": 1, "(3)": 1})
    edges = g.edge_titles()
    assert edges[("MulBackward0", "AddBackward0")] == 2
    assert edges[("x", "MulBackward0")] == 2
    assert sum(edges.values()) == 5


def test_deep_chain_does_not_recurse():
    depth = 20000
    x = leaf(2)
    y = x
    for _ in range(depth):
        y = y + 1.0
    g = parse(y, show_saved=False)
    assert g.titles()["AddBackward0"] == depth
    assert len(g.labels) == depth + 2          # the chain, the leaf and the output
    assert len(g.edges) == depth + 1


def test_several_outputs_share_their_graph():
    x = leaf(2, 2)
    h = x * 3.0
    a, b = h.exp(), h.sum()
    g = parse([a, b], params={"x": x}, show_saved=False)
    assert sorted(g.labels[n] for n in g.sinks()) == ["()", "(2, 2)"]
    assert g.titles()["MulBackward0"] == 1
    assert g.edge_titles()[("MulBackward0", "ExpBackward0")] == 1
    assert g.edge_titles()[("MulBackward0", "SumBackward0")] == 1
    # a tuple works the same, and one tensor given twice is one output
    assert len(parse((a, b)).sinks()) == 2
    assert len(parse((a, a)).sinks()) == 1


def test_saved_shapes_of_a_matrix_product():
    x, w = leaf(3, 4), leaf(4, 5)
    y = x @ w
    assert y.grad_fn.name() == "MmBackward0"
    (mm,) = [label for label in parse(y).labels.values() if label.startswith("Mm")]
    assert mm.split("\n")[1:] == ["saved: (3, 4)", "saved: (4, 5)"]
    assert parse(y, show_saved=False).titles()["MmBackward0"] == 1
    assert "saved" not in viz.to_dot(y, show_saved=False)
    # backward without retain_graph frees what was saved: nothing left to list
    y.sum().backward()
    assert "saved" not in viz.to_dot(y)


class FakeNode:
    """A node type with no saved slots at all, as another library's might be."""

    def __init__(self, name, *inputs):
        self._name = name
        self.next_functions = tuple((n, 0) for n in inputs) + ((None, 0),)

    def name(self):
        return self._name


def test_nodes_without_saved_slots_are_drawn():
    out = types.SimpleNamespace(grad_fn=FakeNode("OuterBackward", FakeNode("InnerBackward")),
                                shape=(7,))
    g = parse(out)
    assert g.edge_titles() == collections.Counter(
        [("InnerBackward", "OuterBackward"), ("OuterBackward", "(7)")])


@pytest.mark.parametrize("make", [
    lambda: autograd_c.randn(3),
    lambda: leaf(3),
    lambda: [leaf(3) * 2, autograd_c.ones(2)],
])
def test_tensor_without_grad_fn_is_a_value_error(make):
    with pytest.raises(ValueError, match="no grad_fn"):
        viz.to_dot(make())


def test_no_outputs_is_a_value_error():
    with pytest.raises(ValueError):
        viz.to_dot([])


def test_names_are_escaped():
    name = 'layer"1\\w'
    w = leaf(2)
    dot = viz.to_dot(w * 2, params={name: w})
    assert 'layer\\"1\\\\w' in dot
    g = Graph(dot)
    assert [g.labels[n] for n in g.sources()] == [name + "\n(2)"]


# -- render -----------------------------------------------------------------------------------

def assert_install_hint(excinfo):
    message = str(excinfo.value)
    assert "pip install graphviz" in message
    assert "apt install graphviz" in message
    assert "to_dot" in message


def fake_graphviz(calls, fail=False):
    module = types.ModuleType("graphviz")

    class ExecutableNotFound(RuntimeError):
        pass

    class Source:
        def __init__(self, source, format=None, **kwargs):
            calls.append((source, format))

        def pipe(self):
            if fail:
                raise ExecutableNotFound("dot")
            return b"<svg>picture</svg>"

    module.Source, module.ExecutableNotFound = Source, ExecutableNotFound
    return module


def test_render_without_the_graphviz_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", None)       # makes the import fail
    with pytest.raises(RuntimeError) as excinfo:
        viz.render(leaf(2) * 2, tmp_path / "g")
    assert_install_hint(excinfo)
    assert list(tmp_path.iterdir()) == []


def test_render_without_dot(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", fake_graphviz([]))
    monkeypatch.setattr(shutil, "which", lambda program: None)
    with pytest.raises(RuntimeError) as excinfo:
        viz.render(leaf(2) * 2, tmp_path / "g")
    assert_install_hint(excinfo)


def test_render_when_dot_fails_to_start(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", fake_graphviz([], fail=True))
    monkeypatch.setattr(shutil, "which", lambda program: "/usr/bin/" + program)
    with pytest.raises(RuntimeError) as excinfo:
        viz.render(leaf(2) * 2, tmp_path / "g")
    assert_install_hint(excinfo)


def test_render_hands_the_dot_text_to_graphviz(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setitem(sys.modules, "graphviz", fake_graphviz(calls))
    monkeypatch.setattr(shutil, "which", lambda program: "/usr/bin/" + program)
    x = leaf(2)
    y = x * 2
    path = viz.render(y, tmp_path / "graph", format="png", params={"x": x})
    assert path == str(tmp_path / "graph.png")
    assert (tmp_path / "graph.png").read_bytes() == b"<svg>picture</svg>"
    assert calls == [(viz.to_dot(y, params={"x": x}), "png")]
    # a name that already ends in the format's suffix is kept as it is
    assert viz.render(y, tmp_path / "g.png", format="png") == str(tmp_path / "g.png")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_for_real(tmp_path):
    pytest.importorskip("graphviz")
    x = leaf(2)
    path = viz.render((x * x).sum(), tmp_path / "graph", params={"x": x})
    svg = open(path).read()
    assert "<svg" in svg and "MulBackward0" in svg and "SumBackward0" in svg
