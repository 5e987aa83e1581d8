"""Which elements share one scale: per tensor, per channel along an axis, or per group of G
consecutive elements along an axis (docs/quantization.md, "Quantizers").

A `Granularity` turns an array into the views the quantizer and the observers need:

- `param_shape`: the shape of the scale and zero-point arrays. Per tensor `()`; per channel
  `axis=k`: x's shape with 1 everywhere but axis k (it broadcasts against x); per group: x's
  shape with axis k holding n / G groups (one scale per group of G elements of each row; it
  broadcasts against `grouped(x)`, and `expand` repeats it G times along axis k).
- `grouped(x)`: x itself, or for groups the view of shape (..., n / G, G, ...), against which
  `kernel_params(p)` broadcasts, so one kernel call quantizes every channel or group.
- `rows(x)`: a 2-D array, one row per scale (C order of `param_shape`), for the observers.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np


def _check_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int or None, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Granularity:
    shape: tuple
    axis: int | None = None
    group: int | None = None

    @classmethod
    def of(cls, shape, axis=None, group=None) -> "Granularity":
        """Validate axis/group against an array shape (axis normalised to >= 0)."""
        shape = tuple(int(n) for n in shape)
        if axis is not None:
            axis = _check_int(axis, "axis")
            if not -len(shape) <= axis < len(shape) or not shape:
                raise ValueError(f"axis={axis} is out of range for an array of shape {shape}")
            axis %= len(shape)
        if group is not None:
            group = _check_int(group, "group")
            if axis is None:
                raise ValueError(f"group={group} needs axis= (the axis the groups of {group} "
                                 "consecutive elements run along)")
            if group < 1:
                raise ValueError(f"group={group} must be a positive int")
            if shape[axis] % group:
                raise ValueError(f"group={group} does not divide axis {axis} of length "
                                 f"{shape[axis]} (shape {shape})")
        return cls(shape, axis, group)

    @property
    def kind(self) -> str:
        return "tensor" if self.axis is None else ("channel" if self.group is None else "group")

    @property
    def param_shape(self) -> tuple:
        if self.axis is None:
            return ()
        k = self.axis
        if self.group is None:
            return tuple(n if i == k else 1 for i, n in enumerate(self.shape))
        return self.shape[:k] + (self.shape[k] // self.group,) + self.shape[k + 1:]

    @property
    def grouped_shape(self) -> tuple:
        if self.group is None:
            return self.shape
        k = self.axis
        return self.shape[:k] + (self.shape[k] // self.group, self.group) + self.shape[k + 1:]

    def grouped(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(self.grouped_shape)

    def kernel_params(self, p: np.ndarray) -> np.ndarray:
        """A parameter array (param_shape) shaped to broadcast against grouped(x)."""
        if self.group is None:
            return p
        return np.expand_dims(p, self.axis + 1)

    def expand(self, p: np.ndarray) -> np.ndarray:
        """A parameter array broadcastable against x itself (groups repeated G times)."""
        if self.group is None:
            return p
        return np.repeat(p, self.group, axis=self.axis)

    def rows(self, x: np.ndarray) -> np.ndarray:
        """One row per scale, in the C order of param_shape."""
        if self.axis is None:
            return x.reshape(1, -1)
        k = self.axis
        if self.group is None:
            return np.moveaxis(x, k, 0).reshape(self.shape[k], -1)
        g = self.grouped(x)  # (..., n/G, G, ...): the group axis last, the others in order
        return np.moveaxis(g, k + 1, -1).reshape(-1, self.group)

    def from_rows(self, values: np.ndarray) -> np.ndarray:
        """Per-row values (one per row of rows(x)) as an array of param_shape."""
        return np.asarray(values).reshape(self.param_shape)

    def __str__(self) -> str:
        if self.axis is None:
            return "per tensor"
        if self.group is None:
            return f"per channel (axis={self.axis})"
        return f"per group of {self.group} (axis={self.axis})"
