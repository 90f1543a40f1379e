"""What users get: the installed package's files, and a source distribution that can rebuild it."""
import pathlib
import shutil
import subprocess
import sys
import tarfile

import pytest

import autograd_c

REPO = pathlib.Path(__file__).resolve().parent.parent
INSTALLED = pathlib.Path(autograd_c.__file__).parent


def test_installed_package_has_stub_contracts_and_marker():
    for name in ("_C.pyi", "py.typed", "_C.pxd", "_kernels.pxd"):
        assert (INSTALLED / name).is_file(), name
    assert list(INSTALLED.glob("_C*.so")) or list(INSTALLED.glob("_C*.pyd"))


def test_installed_package_ships_no_generated_c():
    if INSTALLED.resolve() == (REPO / "autograd_c").resolve():
        # (a venv inside the clone, where the README puts one, is an installation like any other)
        pytest.skip("an in-place development build has Cython's output beside the sources")
    assert not list(INSTALLED.rglob("*.c"))


def test_sdist_has_the_sources_to_rebuild_and_no_generated_c(tmp_path):
    pytest.importorskip("build", reason="the sdist check needs the 'build' package (test extra)")
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("no source tree next to the tests")
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "build", "dist", "*.so", "*.c",
                                                              "__pycache__", "*.egg-info"))
    for c_file in (REPO / "csrc").glob("*.c"):      # hand-written C is part of the source
        shutil.copy(c_file, src / "csrc" / c_file.name)
    done = subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path / "dist"),
                           str(src)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {pathlib.PurePosixPath(n).relative_to(pathlib.PurePosixPath(n).parts[0]).as_posix()
                 for n in tar.getnames() if len(pathlib.PurePosixPath(n).parts) > 1}
    for required in ("setup.py", "pyproject.toml", "csrc/kernels.h", "csrc/pointwise.c",
                     "csrc/grad_mode.c", "autograd_c/_C.pyx", "autograd_c/_C.pxd",
                     "autograd_c/_kernels.pxd", "autograd_c/_engine.pxi", "autograd_c/_C.pyi"):
        assert required in names, required
    assert "autograd_c/_C.c" not in names
