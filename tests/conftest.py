"""Shared test setup: the tests exercise the installed package, never the source tree."""
import os
import pathlib

import autograd_c

REPO = pathlib.Path(__file__).resolve().parent.parent


def pytest_report_header(config):
    return "autograd_c from %s" % pathlib.Path(autograd_c.__file__).parent


if not os.environ.get("AUTOGRAD_C_TEST_SOURCE_TREE"):
    # A source-tree import would test whatever .so happens to lie there, not the wheel users get.
    # Only the package directory of the clone counts: a virtualenv inside the clone (the README
    # puts one at .venv) holds the installed package, which is what should be tested.
    assert pathlib.Path(autograd_c.__file__).resolve().parent != REPO / "autograd_c", (
        "tests imported autograd_c from the source tree (%s); install it (pip install .) and run "
        "pytest from outside the package directory, or set AUTOGRAD_C_TEST_SOURCE_TREE=1 for an "
        "in-place development build" % autograd_c.__file__)
