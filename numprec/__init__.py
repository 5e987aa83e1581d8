"""numprec: bit-exact emulation of low-precision arithmetic, and training under it."""
from .formats import FixedPoint, Format, format_names, get_format, register_format
from .kernels.codes import MODES
from .ops import Flags, decode, encode, get_backend, round, set_backend

__version__ = "0.1.0"

__all__ = ["Format", "FixedPoint", "get_format", "format_names", "register_format", "MODES",
           "round", "encode", "decode", "Flags", "set_backend", "get_backend", "__version__"]
