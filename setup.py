"""Build of autograd_c's compiled core.

One extension, ``autograd_c._C``: the Cython core (``autograd_c/_C.pyx`` and the op families it
includes) linked with the plain-C kernels in ``csrc/``. It is one module on purpose: a Tensor
method that calls an op, and the engine that calls a node's backward, are then direct C calls
with no import-time function tables between modules.

Set ``AUTOGRAD_C_DEBUG=1`` when building to turn on Cython's None and initialisation checks,
C assertions and debug symbols, and to compile without optimisation, for chasing a crash under
gdb or valgrind.

Set ``AUTOGRAD_C_SANITIZE=1`` to build with AddressSanitizer and UndefinedBehaviorSanitizer
(with the debug build's checks): any out-of-bounds access, use after free or undefined
behaviour in the core then stops the process with a report. Python itself is not built with
them, so the sanitizer runtime must be loaded first; ``.ci/sanitize`` builds and runs the whole
suite that way.
"""
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

def switch(name):
    return os.environ.get(name, "") not in ("", "0")


SANITIZE = switch("AUTOGRAD_C_SANITIZE")
DEBUG = switch("AUTOGRAD_C_DEBUG") or SANITIZE

# The one table of Cython directives. Bounds and wraparound checks stay on in every build: the
# hot loops index raw C pointers in csrc/, where these directives do not reach, and elsewhere an
# unchecked `seq[-1]` on a Python sequence would read out of bounds instead of raising.
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": True,
    "wraparound": True,
    "initializedcheck": DEBUG,
    "nonecheck": DEBUG,
    "cdivision": True,      # the code relies on IEEE float division (x / 0.0 is inf), in every build
    "embedsignature": True,
    "profile": False,
}

CFLAGS = ["-O0", "-g", "-UNDEBUG"] if DEBUG else ["-O3"]
LDFLAGS = []
if SANITIZE:
    # -O1 keeps the sanitized suite's run time reasonable; frame pointers give whole stacks
    SANITIZERS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                  "-fno-omit-frame-pointer"]
    CFLAGS = ["-O1", "-g", "-UNDEBUG"] + SANITIZERS
    LDFLAGS = SANITIZERS

core = Extension(
    "autograd_c._C",
    sources=["autograd_c/_C.pyx", "csrc/pointwise.c", "csrc/window.c",
             "csrc/normalization.c", "csrc/optim.c", "csrc/grad_mode.c"],
    include_dirs=["csrc", numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    extra_compile_args=CFLAGS,
    extra_link_args=LDFLAGS,
)

setup(ext_modules=cythonize([core], compiler_directives=DIRECTIVES, gdb_debug=DEBUG))
