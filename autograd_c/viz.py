"""Pictures of the backward graph, as Graphviz DOT text.

``to_dot(loss)`` needs nothing beyond this package; ``render(loss, "graph")`` also needs the
``graphviz`` Python package and Graphviz's ``dot`` program.

Arrows point the way data flowed in the forward pass: from a node's inputs (its
``next_functions``) to the node, and from an output's ``grad_fn`` to the output itself, so leaves
sit at the top and outputs at the bottom. Gradients travel against the arrows.
"""
import importlib
import shutil

__all__ = ["to_dot", "render"]

_INSTALL_HINT = (
    "autograd_c.viz.render needs the 'graphviz' Python package (pip install graphviz) and "
    "Graphviz's 'dot' program from the system package that provides it (e.g. apt install "
    "graphviz, brew install graphviz, or conda install graphviz). autograd_c.viz.to_dot works "
    "without them: it returns the DOT text, which any Graphviz tool can draw.")

# Fill colours, so that the three kinds of node can be told apart at a glance.
_LEAF_COLOR = "lightblue"
_OUTPUT_COLOR = "darkolivegreen1"
_OP_COLOR = "lightgray"


def to_dot(tensor_or_tensors, params=None, show_saved=True):
    """DOT text of the backward graph behind one output tensor or a sequence of them.

    params: optional dict name -> tensor (e.g. ``dict(model.named_parameters())``); a leaf that
    is one of these tensors (by identity) is labelled with its name. show_saved: list the shapes
    of the arrays each node keeps for backward.
    """
    outputs = _as_output_list(tensor_or_tensors)
    names = _names_by_identity(params)
    lines = ["digraph autograd {",
             '  node [shape=box, style=filled, fontname="monospace", fontsize=10];']
    for tensor in outputs:
        lines.append(_node_line(_tensor_id(tensor), [_shape_text(tensor.shape)], _OUTPUT_COLOR))
    lines.extend(_graph_lines(outputs, names, show_saved))
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(tensor_or_tensors, filename, format="svg", params=None, show_saved=True):
    """Draw the backward graph into ``filename`` (``.<format>`` is appended when missing).

    Returns the path written. Raises RuntimeError when graphviz or dot is not installed.
    """
    graphviz = _load_graphviz()
    source = to_dot(tensor_or_tensors, params=params, show_saved=show_saved)
    try:
        picture = graphviz.Source(source, format=format).pipe()
    except graphviz.ExecutableNotFound as err:
        # dot can vanish from PATH between the check and the call, or be found but not run
        raise RuntimeError(_INSTALL_HINT) from err
    path = _with_suffix(str(filename), format)
    with open(path, "wb") as f:
        f.write(picture)
    return path


# -- walking the graph ------------------------------------------------------------------------

def _as_output_list(tensor_or_tensors):
    # A tensor is itself iterable, so it is recognised by its grad_fn attribute first.
    if hasattr(tensor_or_tensors, "grad_fn"):
        outputs = [tensor_or_tensors]
    else:
        outputs = list(tensor_or_tensors)
    if not outputs:
        raise ValueError("to_dot needs at least one output tensor")
    for index, tensor in enumerate(outputs):
        if getattr(tensor, "grad_fn", None) is None:
            raise ValueError(
                "output %d has no grad_fn, so there is no backward graph to draw: it is a leaf, "
                "or was computed under no_grad() or from tensors that do not require grad"
                % index)
    # the same tensor passed twice is still one output
    unique = {id(tensor): tensor for tensor in outputs}
    return list(unique.values())


def _names_by_identity(params):
    if params is None:
        return {}
    names = {}
    for name, tensor in params.items():
        # the first name wins when one tensor is registered under several (tied weights)
        names.setdefault(id(tensor), name)
    return names


def _graph_lines(outputs, names, show_saved):
    """Node and edge lines for every node reachable from the outputs, each node once."""
    lines = []
    seen = set()
    pending = []
    for tensor in outputs:
        lines.append(_edge_line(_node_id(tensor.grad_fn), _tensor_id(tensor)))
        pending.append(tensor.grad_fn)
    # An explicit stack rather than recursion: chains of 100,000 ops are ordinary.
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        lines.append(_describe_node(node, names, show_saved))
        for next_node, _ in node.next_functions:
            if next_node is None:
                continue          # an input that needs no gradient
            lines.append(_edge_line(_node_id(next_node), _node_id(node)))
            if id(next_node) not in seen:
                pending.append(next_node)
    return lines


def _describe_node(node, names, show_saved):
    if _is_leaf_sink(node):
        variable = node.variable
        parts = [_shape_text(variable.shape)]
        if id(variable) in names:
            parts.insert(0, names[id(variable)])
        return _node_line(_node_id(node), parts, _LEAF_COLOR)
    parts = [node.name()]
    if show_saved:
        parts.extend(_saved_parts(node))
    return _node_line(_node_id(node), parts, _OP_COLOR)


def _is_leaf_sink(node):
    # torch's AccumulateGrad and ours share the class name but no base class
    return type(node).__name__ == "AccumulateGrad" and hasattr(node, "variable")


def _saved_parts(node):
    parts = []
    for slot in ("saved0", "saved1"):
        # Not every node type has these slots, and they read None once backward freed them.
        shape = getattr(getattr(node, slot, None), "shape", None)
        if shape is not None:
            parts.append("saved: " + _shape_text(shape))
    return parts


# -- DOT text ---------------------------------------------------------------------------------

def _node_id(node):
    return "n%d" % id(node)


def _tensor_id(tensor):
    # its own prefix tells output tensors from backward nodes when reading the text
    return "t%d" % id(tensor)


def _shape_text(shape):
    return "(" + ", ".join(str(int(size)) for size in shape) + ")"


def _node_line(node_id, label_parts, color):
    label = "\\n".join(_escape(part) for part in label_parts)
    return '  %s [label="%s", fillcolor=%s];' % (node_id, label, color)


def _edge_line(source_id, target_id):
    return "  %s -> %s;" % (source_id, target_id)


def _escape(text):
    """Text as it must appear inside a DOT double-quoted string."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


# -- rendering --------------------------------------------------------------------------------

def _load_graphviz():
    try:
        graphviz = importlib.import_module("graphviz")
    except ImportError as err:
        raise RuntimeError(_INSTALL_HINT) from err
    if shutil.which("dot") is None:
        raise RuntimeError(_INSTALL_HINT)
    return graphviz


def _with_suffix(path, format):
    suffix = "." + format
    return path if path.endswith(suffix) else path + suffix
