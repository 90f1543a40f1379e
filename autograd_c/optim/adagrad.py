"""Adagrad (torch.optim.Adagrad, dense single-tensor CPU path)."""
from __future__ import annotations

import autograd_c
from autograd_c import _C
from autograd_c.optim.optimizer import (
    Optimizer, _convert_plain_steps, _step_tensor, _use_grad_for_differentiable,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._new_state(p, group["initial_accumulator_value"])

    def __setstate__(self, state):
        super().__setstate__(state)
        _convert_plain_steps(self)

    def _new_state(self, p, initial_accumulator_value):
        state = self.state[p]
        state["step"] = _step_tensor()
        state["sum"] = autograd_c.full_like(p, initial_accumulator_value)
        return state

    def _state_of(self, p):
        # a parameter of a group added after construction gets its state on its first step,
        # from the constructor's initial_accumulator_value, as torch's does
        state = self.state[p]
        if "sum" in state:
            return state
        return self._new_state(p, self.defaults["initial_accumulator_value"])

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            pairs = list(self._params_with_grad(group))
            params, grads = [p for p, _ in pairs], [g for _, g in pairs]
            states = [self._state_of(p) for p in params]
            # the whole group in one compiled loop; what it cannot take comes back by index
            left = _C._adagrad_step(
                params, grads, [s["sum"] for s in states], [s["step"] for s in states],
                group["lr"], group["lr_decay"], group["eps"], group["weight_decay"],
                group["maximize"])
            for i in left:
                _adagrad_update(params[i], grads[i], states[i], group)
        return loss


def _adagrad_update(p, grad, state, group):
    """One parameter's Adagrad update with tensor ops (dtypes and layouts the kernel does not
    take)."""
    step_t = state["step"]
    step_t += 1
    step = step_t.item()
    if group["maximize"]:
        grad = -grad
    if group["weight_decay"] != 0:
        grad = grad.add(p, alpha=group["weight_decay"])
    clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
    state_sum = state["sum"]
    state_sum.add_(grad * grad)
    std = state_sum.sqrt().add_(group["eps"])
    p.add_(grad / std, alpha=-clr)
