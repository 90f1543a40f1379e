"""The examples: the README's first command runs autograd_c.examples.digits (the main job), and
autograd_c.examples.moons is the raw-tensor demonstration. Both must train, not just run."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from autograd_c.examples import moons


def test_moons_training_reaches_high_test_accuracy(capsys):
    accuracy = moons.main(["--steps", "600", "--seed", "1"])
    printed = capsys.readouterr().out
    assert accuracy >= 0.95
    assert "step   600" in printed and "test accuracy" in printed


def test_moons_runs_as_a_module(tmp_path):
    # from a directory outside the source tree, so the installed package is the one imported
    done = subprocess.run([sys.executable, "-m", "autograd_c.examples.moons", "--steps", "100"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("test accuracy")


def test_console_script_exits_cleanly(tmp_path):
    script = shutil.which("autograd-c-moons", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("autograd-c-moons is installed by pip install, not by an in-place build")
    done = subprocess.run([script, "--steps", "100"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout


# -- the digits main job --------------------------------------------------------------------

def test_digits_cnn_reaches_97_percent_in_a_short_run(capsys):
    from autograd_c.examples import digits
    accuracy = digits.main(["--model", "cnn", "--epochs", "5", "--quiet", "--seed", "0"])
    printed = capsys.readouterr().out
    assert accuracy["cnn"] >= 0.97
    assert "1438 training and 359 test images" in printed
    assert "cnn: test accuracy" in printed


def test_digits_mlp_learns(capsys):
    from autograd_c.examples import digits
    accuracy = digits.main(["--model", "mlp", "--epochs", "5", "--quiet", "--seed", "1"])
    assert accuracy["mlp"] >= 0.93


def test_digits_split_is_stratified_and_disjoint():
    from autograd_c.examples import digits
    x_train, y_train, x_test, y_test = digits.load_digits(0)
    assert x_train.shape[1:] == (1, 8, 8) and len(x_train) + len(x_test) == 1797
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    counts = np.bincount(y_test, minlength=10) / np.bincount(np.concatenate([y_train, y_test]))
    assert np.allclose(counts, digits.TEST_FRACTION, atol=0.01)
    train_rows = {row.tobytes() for row in x_train}
    assert sum(row.tobytes() in train_rows for row in x_test) < 5  # the data set has a few duplicates


def test_digits_compare_torch_trains_the_same_curve(capsys):
    pytest.importorskip("torch")
    from autograd_c.examples import digits
    digits.main(["--model", "mlp", "--epochs", "2", "--quiet", "--compare-torch"])
    printed = capsys.readouterr().out
    loss_line = next(line for line in printed.splitlines() if "final loss" in line and "torch" in line)
    ours, theirs = (float(w) for w in loss_line.split()[3::2])
    assert abs(ours - theirs) <= 1e-3 * max(1.0, abs(theirs))  # same weights, same batches
    assert "x torch's speed" in printed


@pytest.fixture
def restore_threads():
    import autograd_c
    torch = pytest.importorskip("torch")
    counts = autograd_c.get_num_threads(), torch.get_num_threads()
    yield
    autograd_c.set_num_threads(counts[0])
    torch.set_num_threads(counts[1])


@pytest.mark.parametrize("threads", [[], ["--threads", "1"]], ids=["default", "one"])
def test_digits_compare_torch_runs_both_on_the_same_threads(capsys, restore_threads, threads):
    import autograd_c
    from autograd_c.examples import digits
    expected = int(threads[1]) if threads else autograd_c.get_num_threads()
    digits.main(["--model", "mlp", "--epochs", "1", "--quiet", "--compare-torch"] + threads)
    printed = capsys.readouterr().out
    assert f"threads: {expected} in autograd_c and torch" in printed
    assert f"threads     autograd_c {expected}   torch {expected}" in printed


def test_digits_progress_bar_shows_loss_and_rate(capsys):
    pytest.importorskip("tqdm")
    from autograd_c.examples import digits
    digits.main(["--model", "mlp", "--epochs", "1"])
    captured = capsys.readouterr()
    assert "loss=" in captured.err and "steps_per_s=" in captured.err
    assert "mlp ours epoch   1/1" in captured.out


def test_digits_console_script(tmp_path):
    script = shutil.which("autograd-c-digits", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("autograd-c-digits is installed by pip install, not by an in-place build")
    done = subprocess.run([script, "--model", "mlp", "--epochs", "1"], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mlp: test accuracy" in done.stdout
