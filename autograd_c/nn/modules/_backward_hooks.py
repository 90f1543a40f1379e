"""Module backward hooks (register_full_backward_hook / register_full_backward_pre_hook).

A call of a module with such hooks passes its tensor inputs and outputs through identity
Functions. The outputs' identity runs first in backward: it hands the pre-hooks the gradients
with respect to the outputs (grad_output), which they may replace. The inputs' identity runs once
the module's own graph has produced the gradients with respect to the inputs (grad_input): the
full hooks see both and may replace grad_input.
"""
import warnings

from autograd_c._C import Tensor, is_grad_enabled
from autograd_c.autograd.function import Function


class _Identity(Function):
    """Tensors through unchanged; in backward, `ctx.on_grads(grads)` decides what flows on."""

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        ctx.set_materialize_grads(False)     # a gradient that never arrived stays None
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.on_grads(grads))


class BackwardHookFunction(_Identity):
    """Named as torch names the node of a hooked module's outputs and inputs."""


class ModuleBackwardHooks:
    """The backward hooks of one call of `module` with positional `args`."""

    def __init__(self, module, args):
        self.module = module
        self.n_args = len(args)
        self.input_positions = [i for i, a in enumerate(args)
                                if isinstance(a, Tensor) and a.requires_grad]
        self.grad_outputs = None

    def wrap_inputs(self, args):
        if not self.input_positions or not is_grad_enabled():
            return args
        wrapped = BackwardHookFunction.apply(self.inputs_ready,
                                             *(args[i] for i in self.input_positions))
        args = list(args)
        for i, t in zip(self.input_positions, wrapped):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, result):
        single = isinstance(result, Tensor)
        outputs = (result,) if single else result
        if not isinstance(outputs, tuple) or not is_grad_enabled():
            return result
        positions = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return result
        self.n_outputs = len(outputs)
        self.output_positions = positions
        wrapped = BackwardHookFunction.apply(self.outputs_ready, *(outputs[i] for i in positions))
        outputs = list(outputs)
        for i, t in zip(positions, wrapped):
            outputs[i] = t
        return outputs[0] if single else tuple(outputs)

    def outputs_ready(self, grads):
        """The gradients with respect to the outputs: the pre-hooks may replace them."""
        grad_output = [None] * self.n_outputs
        for i, g in zip(self.output_positions, grads):
            grad_output[i] = g
        grad_output = tuple(grad_output)
        for hook in tuple(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _checked(result, len(grad_output), "grad_output")
        self.grad_outputs = grad_output
        if not self.input_positions and self.module._backward_hooks:
            # no grad_input will come: the hooks run now, as torch's do (with its warning)
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=2)
            for hook in tuple(self.module._backward_hooks.values()):
                hook(self.module, (None,) * self.n_args, grad_output)
        return tuple(grad_output[i] for i in self.output_positions)

    def inputs_ready(self, grads):
        """The gradients with respect to the inputs: the full hooks may replace them."""
        grad_input = [None] * self.n_args
        for i, g in zip(self.input_positions, grads):
            grad_input[i] = g
        grad_input = tuple(grad_input)
        for hook in tuple(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_outputs)
            if result is not None:
                grad_input = _checked(result, len(grad_input), "grad_input")
        return tuple(grad_input[i] for i in self.input_positions)


def _checked(result, expected, what):
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != expected:
        raise RuntimeError("Backward hook returned an invalid number of %s, got %d, but expected "
                           "%d" % (what, len(result), expected))
    return result
