"""Train an MLP and a small CNN on scikit-learn's handwritten digits, and report test accuracy.

    autograd-c-digits [--model mlp|cnn|both] [--epochs 15] [--threads N] [--compare-torch]
    python -m autograd_c.examples.digits ...     (from outside the source tree)

The data set is the 1,797 8x8 images that ship inside scikit-learn (no download). The loop is
the one PyTorch users write: a TensorDataset and a shuffling DataLoader, nn.Sequential models,
CrossEntropyLoss, an optimizer and a learning-rate schedule, with a tqdm progress bar showing
the loss and steps per second.

--threads N sets the intra-op thread count (numpy's BLAS); the default is autograd_c's, which
is torch's. --compare-torch trains the same model in torch (when it is installed) from the same
initial weights, on the same batches and thread count, and prints where both loss curves end,
both test accuracies and the ratio of their training speeds. Needs the `examples` extra:
pip install "autograd_c[examples]".
"""
import argparse
import sys
import time

import numpy as np

import autograd_c

TEST_FRACTION = 0.2


def load_digits(seed):
    """(x_train, y_train, x_test, y_test) as numpy arrays: pixels scaled to [0, 1], images
    shaped (1, 8, 8), and a class-stratified split fixed by `seed`."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        sys.exit("The digits example needs scikit-learn: pip install \"autograd_c[examples]\"")
    data = sklearn_digits()
    images = (data.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = data.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test[members[:round(len(members) * TEST_FRACTION)]] = True
    return images[~test], labels[~test], images[test], labels[test]


def build_model(kind, nn):
    """The network, written once for any module namespace with torch.nn's API (ours or torch's),
    so that --compare-torch trains the very same architecture."""
    if kind == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(64, 128), nn.ReLU(),
            nn.Linear(128, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def progress(batches, desc, quiet):
    """A tqdm bar over one epoch's batches, or the batches themselves when tqdm is missing or
    the run is quiet."""
    if quiet:
        return batches
    try:
        from tqdm import tqdm
    except ImportError:
        return batches
    return tqdm(batches, desc=desc, unit="step", leave=False, file=sys.stderr)


class Run:
    """One training run's record: the loss after every step and the time spent in steps."""

    def __init__(self):
        self.losses = []
        self.step_seconds = 0.0

    @property
    def steps_per_second(self):
        return len(self.losses) / self.step_seconds if self.step_seconds else float("nan")

    def end_loss(self, last=20):
        """The mean of the last few step losses: the end point of a noisy curve."""
        return float(np.mean(self.losses[-last:]))


def train(lib, model, batches_per_epoch, epochs, lr, quiet, label):
    """Train `model` with lib (autograd_c or torch); `batches_per_epoch()` gives one epoch's
    (x, y) batches already as lib's tensors."""
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    schedule = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    run = Run()
    model.train()
    for epoch in range(1, epochs + 1):
        bar = progress(batches_per_epoch(), f"{label} epoch {epoch}/{epochs}", quiet)
        for x, y in bar:
            start = time.perf_counter()
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            run.step_seconds += time.perf_counter() - start
            run.losses.append(loss.item())
            if bar is not None and hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{run.losses[-1]:.4f}",
                                steps_per_s=f"{run.steps_per_second:,.0f}")
        schedule.step()
        if not quiet:
            print(f"{label:>11s} epoch {epoch:3d}/{epochs}  loss {run.end_loss():.4f}  "
                  f"({run.steps_per_second:,.0f} steps/s)")
    return run


def accuracy(lib, model, x, y):
    model.eval()
    with lib.no_grad():
        predicted = model(x).argmax(dim=1)
    return (predicted == y).float().mean().item()


def batches(lib, loader):
    """One epoch of `loader` (an autograd_c DataLoader) as lib's tensors. torch gets copies of
    the very same batches, so both libraries see the same data in the same order."""
    if lib is autograd_c:
        return loader
    return [(lib.from_numpy(x.numpy().copy()), lib.from_numpy(y.numpy().copy()))
            for x, y in loader]


def make_loader(x, y, batch_size, seed):
    dataset = autograd_c.utils.data.TensorDataset(autograd_c.from_numpy(x),
                                                  autograd_c.from_numpy(y))
    generator = autograd_c.Generator().manual_seed(seed)
    return autograd_c.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                            generator=generator)


def run_model(kind, data, args, torch):
    """Train `kind` in autograd_c (and torch); returns autograd_c's test accuracy."""
    x_train, y_train, x_test, y_test = data
    autograd_c.manual_seed(args.seed)
    model = build_model(kind, autograd_c.nn)
    initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    loader = make_loader(x_train, y_train, args.batch_size, args.seed)
    ours = train(autograd_c, model, lambda: batches(autograd_c, loader), args.epochs, args.lr,
                 args.quiet, f"{kind} ours")
    acc = accuracy(autograd_c, model, autograd_c.from_numpy(x_test), autograd_c.from_numpy(y_test))
    print(f"{kind}: test accuracy {acc:.2%} on {len(y_test)} held-out digits "
          f"({ours.steps_per_second:,.0f} steps/s, final loss {ours.end_loss():.4f})")
    if torch is not None:
        compare_with_torch(kind, initial, data, args, torch, ours, acc)
    return acc


def compare_with_torch(kind, initial, data, args, torch, ours, ours_acc):
    x_train, y_train, x_test, y_test = data
    model = build_model(kind, torch.nn)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in initial.items()})
    loader = make_loader(x_train, y_train, args.batch_size, args.seed)
    theirs = train(torch, model, lambda: batches(torch, loader), args.epochs, args.lr,
                   args.quiet, f"{kind} torch")
    acc = accuracy(torch, model, torch.from_numpy(x_test), torch.from_numpy(y_test))
    print(f"{kind}: torch {torch.__version__} from the same initial weights and batches:")
    print(f"    final loss  autograd_c {ours.end_loss():.4f}   torch {theirs.end_loss():.4f}")
    print(f"    test acc.   autograd_c {ours_acc:.2%}   torch {acc:.2%}")
    print(f"    threads     autograd_c {autograd_c.get_num_threads()}   "
          f"torch {torch.get_num_threads()}")
    print(f"    steps/s     autograd_c {ours.steps_per_second:,.0f}   torch "
          f"{theirs.steps_per_second:,.0f}   (autograd_c is "
          f"{ours.steps_per_second / theirs.steps_per_second:.2f}x torch's speed)")


def import_torch(wanted):
    if not wanted:
        return None
    try:
        import torch
    except ImportError:
        print("--compare-torch: torch is not installed; training autograd_c only")
        return None
    return torch


def use_threads(threads, torch):
    """Run both frameworks on the same number of threads, so that their speeds compare."""
    chosen = "--threads" if threads is not None else "the default"
    if threads is not None:
        autograd_c.set_num_threads(threads)
    threads = autograd_c.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    both = " in autograd_c and torch" if torch is not None else ""
    print(f"threads: {threads}{both} ({chosen})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "cnn", "both"], default="both")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="intra-op threads for autograd_c (and torch); default: "
                             "autograd_c's default, which is torch's")
    parser.add_argument("--compare-torch", action="store_true",
                        help="also train the same model in torch, on as many threads, and compare")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, not {args.threads}")

    data = load_digits(args.seed)
    print(f"digits: {len(data[1])} training and {len(data[3])} test images of 8x8 pixels")
    torch = import_torch(args.compare_torch)
    use_threads(args.threads, torch)
    kinds = ["mlp", "cnn"] if args.model == "both" else [args.model]
    return {kind: run_model(kind, data, args, torch) for kind in kinds}


def cli():
    main()


if __name__ == "__main__":
    cli()
