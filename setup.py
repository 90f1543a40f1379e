"""Build of autograd_c's compiled core.

One extension, ``autograd_c._C``: the Cython core (``autograd_c/_C.pyx`` and the op families it
includes) linked with the plain-C kernels in ``csrc/``. It is one module on purpose: a Tensor
method that calls an op, and the engine that calls a node's backward, are then direct C calls
with no import-time function tables between modules.

Set ``AUTOGRAD_C_DEBUG=1`` when building to turn on Cython's None and initialisation checks,
C assertions and debug symbols, and to compile without optimisation, for chasing a crash under
gdb or valgrind.
"""
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("AUTOGRAD_C_DEBUG", "") not in ("", "0")

# The one table of Cython directives. Bounds and wraparound checks stay on in every build: the
# hot loops index raw C pointers in csrc/, where these directives do not reach, and elsewhere an
# unchecked `seq[-1]` on a Python sequence would read out of bounds instead of raising.
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": True,
    "wraparound": True,
    "initializedcheck": DEBUG,
    "nonecheck": DEBUG,
    "cdivision": not DEBUG,
    "embedsignature": True,
    "profile": False,
}

CFLAGS = ["-O0", "-g", "-UNDEBUG"] if DEBUG else ["-O3"]

core = Extension(
    "autograd_c._C",
    sources=["autograd_c/_C.pyx", "csrc/pointwise.c", "csrc/window.c",
             "csrc/normalization.c", "csrc/optim.c", "csrc/grad_mode.c"],
    include_dirs=["csrc", numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    extra_compile_args=CFLAGS,
)

setup(ext_modules=cythonize([core], compiler_directives=DIRECTIVES, gdb_debug=DEBUG))
