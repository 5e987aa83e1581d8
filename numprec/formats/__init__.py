"""Number formats: descriptors and the registry of named formats."""
from .descriptor import FixedPoint, Format, NAN_CONVENTIONS
from .finfo import finfo
from .registry import format_names, get_format, register_format

__all__ = ["Format", "FixedPoint", "NAN_CONVENTIONS", "finfo", "get_format", "format_names",
           "register_format"]
