"""The README's first command runs autograd_c.examples.moons: it must train, not just run."""
import os
import shutil
import subprocess
import sys

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
