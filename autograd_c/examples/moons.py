"""Train a two-layer network on the two-moons problem with raw tensors and manual SGD.

    autograd-c-moons [--steps 2000] [--hidden 32] [--seed 0]
    python -m autograd_c.examples.moons ...      (from outside the source tree)

Everything the network needs is a tensor op: a matmul, tanh, a softmax cross-entropy written
with logsumexp, backward(), and an in-place update under no_grad(). It prints the loss as it
trains and the accuracy on held-out points at the end.
"""
import argparse
import math
import time

import numpy as np

import autograd_c as torch


def make_moons(n, noise, rng):
    """Two interleaved half circles, labelled 0 and 1 (the data is generated, not downloaded)."""
    half = n // 2
    angle = rng.uniform(0, math.pi, size=n)
    upper = np.stack([np.cos(angle[:half]), np.sin(angle[:half])], axis=1)
    lower = np.stack([1 - np.cos(angle[half:]), 0.5 - np.sin(angle[half:])], axis=1)
    points = np.concatenate([upper, lower]) + rng.normal(scale=noise, size=(n, 2))
    labels = np.concatenate([np.zeros(half), np.ones(n - half)]).astype(np.int64)
    return points.astype(np.float32), labels


def cross_entropy(logits, labels):
    """Mean negative log-likelihood of the labels under softmax(logits)."""
    log_probs = logits - logits.logsumexp(dim=1, keepdim=True)
    picked = log_probs[torch.arange(len(labels)), labels]
    return -picked.mean()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    x_np, y_np = make_moons(1000, 0.1, rng)
    order = rng.permutation(1000)
    x_np, y_np = x_np[order], y_np[order]
    x_train, y_train = torch.from_numpy(x_np[:800]), torch.from_numpy(y_np[:800])
    x_test, y_test = torch.from_numpy(x_np[800:]), torch.from_numpy(y_np[800:])

    w1 = (torch.randn(2, args.hidden) / math.sqrt(2)).requires_grad_()
    b1 = torch.zeros(args.hidden, requires_grad=True)
    w2 = (torch.randn(args.hidden, 2) / math.sqrt(args.hidden)).requires_grad_()
    b2 = torch.zeros(2, requires_grad=True)
    params = [w1, b1, w2, b2]

    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        logits = torch.tanh(x_train @ w1 + b1) @ w2 + b2
        loss = cross_entropy(logits, y_train)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= args.lr * p.grad
        if step % (args.steps // 10) == 0 or step == 1:
            rate = step / (time.perf_counter() - start)
            print(f"step {step:5d}  loss {loss.item():.4f}  ({rate:,.0f} steps/s)")

    with torch.no_grad():
        predicted = (torch.tanh(x_test @ w1 + b1) @ w2 + b2).argmax(dim=1)
        accuracy = (predicted == y_test).float().mean().item()
    print(f"test accuracy {accuracy:.1%} on {len(y_test)} held-out points")
    return accuracy


def cli():
    """The console script `autograd-c-moons` (its exit status must not be the accuracy)."""
    main()


if __name__ == "__main__":
    cli()
