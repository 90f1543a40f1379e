"""Adam and AdamW (torch.optim.Adam / torch.optim.AdamW, single-tensor CPU path)."""
from __future__ import annotations

from autograd_c import _C
from autograd_c.optim.optimizer import (
    Optimizer, _convert_plain_steps, _step_tensor, _use_grad_for_differentiable,
)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
            "capturable": capturable, "differentiable": differentiable, "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("decoupled_weight_decay", False)
        _convert_plain_steps(self)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            pairs = list(self._params_with_grad(group))
            params, grads = [p for p, _ in pairs], [g for _, g in pairs]
            states = [self._state_of(p, group["amsgrad"]) for p in params]
            beta1, beta2 = group["betas"]
            # the whole group in one compiled loop; what it cannot take comes back by index
            left = _C._adam_step(
                params, grads, [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states],
                [s["max_exp_avg_sq"] if group["amsgrad"] else None for s in states],
                [s["step"] for s in states], group["lr"], beta1, beta2, group["eps"],
                group["weight_decay"], group["decoupled_weight_decay"], group["maximize"],
                group["amsgrad"])
            for i in left:
                _adam_update(params[i], grads[i], states[i], group)
        return loss

    def _state_of(self, p, amsgrad):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["exp_avg"] = _zeros_like(p)
            state["exp_avg_sq"] = _zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = _zeros_like(p)
        return state


def _adam_update(p, grad, state, group):
    """One parameter's Adam update with tensor ops (dtypes and layouts the kernel does not
    take)."""
    lr = group["lr"]
    beta1, beta2 = group["betas"]
    weight_decay = group["weight_decay"]
    if group["maximize"]:
        grad = -grad
    exp_avg, exp_avg_sq, step_t = state["exp_avg"], state["exp_avg_sq"], state["step"]
    step_t += 1
    if weight_decay != 0:
        if group["decoupled_weight_decay"]:
            p.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    exp_avg.add_(grad - exp_avg, alpha=1 - beta1)              # lerp toward grad
    exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
    step = step_t.item()
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    if group["amsgrad"]:
        max_sq = state["max_exp_avg_sq"]
        _maximum_into(max_sq, exp_avg_sq)
        exp_avg_sq = max_sq
    denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(group["eps"])
    p.add_(exp_avg / denom, alpha=-step_size)


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def _zeros_like(p):
    import autograd_c
    return autograd_c.zeros_like(p)


def _maximum(a, b):
    import autograd_c
    return autograd_c.maximum(a, b)


def _maximum_into(out, other):
    """torch.maximum(out, other, out=out), which refuses a floating result for an integer or
    bool out rather than truncating it."""
    result = _maximum(out, other)
    if result.is_floating_point() and not out.is_floating_point():
        raise RuntimeError("result type %s can't be cast to the desired output type %s"
                           % (result.dtype.legacy_name[:-6], out.dtype.legacy_name[:-6]))
    out.copy_(result)
