"""Stochastic gradient descent (torch.optim.SGD)."""
from __future__ import annotations

from autograd_c import _C
from autograd_c.optim.optimizer import Optimizer, _use_grad_for_differentiable

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
            "foreach": foreach, "differentiable": differentiable, "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            momentum = group["momentum"]
            pairs = list(self._params_with_grad(group))
            params, grads = [p for p, _ in pairs], [g for _, g in pairs]
            bufs = [self.state[p].get("momentum_buffer") if momentum != 0 else None
                    for p in params]
            # the whole group in one compiled loop; what it cannot take comes back by index
            left = _C._sgd_step(params, grads, bufs, group["lr"], momentum,
                                group["dampening"], group["weight_decay"], group["nesterov"],
                                group["maximize"])
            for i in left:
                bufs[i] = _sgd_update(params[i], grads[i], bufs[i], group)
            if momentum != 0:
                for p, buf in zip(params, bufs):
                    self.state[p]["momentum_buffer"] = buf
        return loss


def _sgd_update(p, grad, buf, group):
    """One parameter's SGD update with tensor ops (dtypes and layouts the kernel does not take);
    returns the momentum buffer."""
    momentum = group["momentum"]
    if group["maximize"]:
        grad = -grad
    if group["weight_decay"] != 0:
        grad = grad.add(p, alpha=group["weight_decay"])
    if momentum != 0:
        if buf is None:
            buf = grad.detach().clone()
        else:
            buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
        grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
    p.add_(grad, alpha=-group["lr"])
    return buf
