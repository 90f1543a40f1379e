"""nn.Parameter: a Tensor that a Module registers as one of its parameters."""
from autograd_c._C import Tensor


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Parameter(Tensor):
    """A leaf tensor that is registered as a parameter when assigned to a Module attribute."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from autograd_c import empty
            data = empty(0)
        return Tensor._make_subclass(cls, data, requires_grad)

    def __init__(self, *args, **kwargs):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        if self.grad is not None:
            result.grad = self.grad.clone()
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.data.clone(), self.requires_grad))
