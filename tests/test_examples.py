"""The README's first command runs autograd_c.examples.moons: it must train, not just run."""
import subprocess
import sys

from autograd_c.examples import moons


def test_moons_training_reaches_high_test_accuracy(capsys):
    accuracy = moons.main(["--steps", "600", "--seed", "1"])
    printed = capsys.readouterr().out
    assert accuracy >= 0.95
    assert "step   600" in printed and "test accuracy" in printed


def test_moons_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "autograd_c.examples.moons", "--steps", "100"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("test accuracy")
