"""RMSprop (torch.optim.RMSprop, single-tensor CPU path)."""
from __future__ import annotations

import autograd_c
from autograd_c import _C
from autograd_c.optim.optimizer import (
    Optimizer, _convert_plain_steps, _step_tensor, _use_grad_for_differentiable,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        _convert_plain_steps(self)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            momentum, centered = group["momentum"], group["centered"]
            pairs = list(self._params_with_grad(group))
            params, grads = [p for p, _ in pairs], [g for _, g in pairs]
            states = [self._state_of(p, group) for p in params]
            # the whole group in one compiled loop; what it cannot take comes back by index
            left = _C._rmsprop_step(
                params, grads, [s["square_avg"] for s in states],
                [s["grad_avg"] if centered else None for s in states],
                [s["momentum_buffer"] if momentum > 0 else None for s in states],
                [s["step"] for s in states], group["lr"], group["alpha"], group["eps"],
                group["weight_decay"], momentum, group["maximize"], centered)
            for i in left:
                _rmsprop_update(params[i], grads[i], states[i], group)
        return loss

    def _state_of(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["square_avg"] = autograd_c.zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = autograd_c.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = autograd_c.zeros_like(p)
        return state


def _rmsprop_update(p, grad, state, group):
    """One parameter's RMSprop update with tensor ops (dtypes and layouts the kernel does not
    take)."""
    alpha = group["alpha"]
    if group["maximize"]:
        grad = -grad
    square_avg = state["square_avg"]
    state["step"] += 1
    if group["weight_decay"] != 0:
        grad = grad.add(p, alpha=group["weight_decay"])
    square_avg.mul_(alpha).add_(grad * grad, alpha=1 - alpha)
    if group["centered"]:
        grad_avg = state["grad_avg"]
        grad_avg.add_(grad - grad_avg, alpha=1 - alpha)
        avg = (square_avg - grad_avg * grad_avg).sqrt()
    else:
        avg = square_avg.sqrt()
    avg.add_(group["eps"])
    if group["momentum"] > 0:
        buf = state["momentum_buffer"]
        buf.mul_(group["momentum"]).add_(grad / avg)
        p.add_(buf, alpha=-group["lr"])
    else:
        p.add_(grad / avg, alpha=-group["lr"])
