"""Optimizers with torch.optim's API: ``autograd_c.optim.SGD(model.parameters(), lr=0.1)``."""
from autograd_c.optim.optimizer import Optimizer
from autograd_c.optim.sgd import SGD
from autograd_c.optim.adam import Adam, AdamW
from autograd_c.optim.rmsprop import RMSprop
from autograd_c.optim.adagrad import Adagrad
from autograd_c.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
