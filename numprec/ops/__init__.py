"""The public array API."""
from .backend import get_backend, set_backend
from .flags import Flags
from .rounding import decode, encode, round

__all__ = ["round", "encode", "decode", "Flags", "set_backend", "get_backend"]
