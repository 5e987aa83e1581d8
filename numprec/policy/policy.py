"""Precision policies: for every op class, the formats each pass of an op runs in.

A `Policy` gives, per op class (matmul, elementwise, ...), a forward and a backward `Pass`: the
format the inputs are rounded to, the accumulation order and format of sums/products, the format
the outputs are rounded to, and optional per-tensor scaling of GEMM operands (FP8). It also names
the rounding mode, the format of master weights and optimizer state, and the loss scaling the
policy is meant to be trained with. The format name "promote" means "the widest format among the
op's inputs" (what frameworks do outside autocast). Presets and loaders live in numprec.amp.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType

from ..codes import MODES, ORDERS
from ..formats import FixedPoint, get_format

PROMOTE = "promote"

# Every op of the engine belongs to one class (data movement such as reshape, transpose,
# indexing, concatenation and embedding lookups is exact and belongs to none).
OP_CLASSES = MappingProxyType({
    "matmul": "matmul, linear, conv2d: products summed in the accumulation format",
    "elementwise": "add, sub, mul, div, neg, sqrt, relu, gelu, tanh, sigmoid, dropout",
    "transcendental": "exp, log, pow",
    "reduction": "sum, mean, max",
    "pool": "avg_pool2d, max_pool2d",
    "softmax": "softmax, log_softmax",
    "norm": "layer_norm",
    "loss": "cross_entropy, mse_loss",
})
# Pass.order is one of numprec.codes.ORDERS: "fp64" (float64 BLAS / NumPy then one rounding, the
# fast path and the default) or an accumulation model of numprec.matmul / numprec.sum.
# scaling of GEMM operands: FP8 per-tensor ("current", "delayed"), or fake quantization into
# integer codes per channel, OCP MX blocks or NVFP4 blocks (numprec.policy.quantized)
SCALINGS = (None, "current", "delayed", "channel", "tensor", "mx", "nvfp4")
STES = (None, "clipped")
_QUANTIZED = ("channel", "tensor", "mx", "nvfp4")  # the straight-through estimator of quantized operands: plain or clipped
LOSS_SCALES = (None, "dynamic")


def check_format_name(value, where: str):
    """A format name (or descriptor) or "promote"; errors name the policy field."""
    if value == PROMOTE:
        return value
    try:
        get_format(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{where}: {err}") from None
    return value


@dataclass(frozen=True)
class Pass:
    """The formats one pass (forward or backward) of an op class runs in."""

    input: object = PROMOTE
    acc: object = PROMOTE
    output: object = PROMOTE
    order: str = "fp64"
    block: int | None = None
    fused_terms: int | None = None
    fused_width: int | None = None
    scaling: str | None = None
    ste: str | None = None

    def validate(self, where: str) -> "Pass":
        for name in ("input", "acc", "output"):
            check_format_name(getattr(self, name), f"{where}.{name}")
        if self.order not in ORDERS:
            raise ValueError(f"{where}.order: unknown accumulation order {self.order!r}; "
                             f"valid orders: {', '.join(ORDERS)}")
        for name, order in (("block", "blocked"), ("fused_terms", "fused"),
                            ("fused_width", "fused")):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{where}.{name} must be a positive int, got {value!r}")
            if self.order != order:
                raise ValueError(f"{where}.{name} applies only to order={order!r}, not "
                                 f"{self.order!r}")
        if self.scaling not in SCALINGS:
            raise ValueError(f"{where}.scaling: unknown scaling {self.scaling!r}; valid: "
                             "none, current, delayed, channel, tensor, mx, nvfp4")
        if self.scaling is not None and self.input == PROMOTE:
            raise ValueError(f"{where}: per-tensor scaling needs an explicit input format")
        if self.ste not in STES:
            raise ValueError(f"{where}.ste: unknown straight-through estimator {self.ste!r}; "
                             "valid: none, clipped")
        if self.ste is not None and self.scaling not in _QUANTIZED:
            raise ValueError(f"{where}.ste applies to quantized operands (scaling channel, "
                             f"tensor, mx or nvfp4), not scaling={self.scaling!r}")
        if self.scaling in _QUANTIZED:
            _check_quantized_input(self.scaling, get_format(self.input), where)
        return self


PASS_FIELDS = tuple(f.name for f in fields(Pass))


def _check_quantized_input(scaling: str, fmt, where: str):
    """The element format each quantized scaling needs."""
    if scaling in ("channel", "tensor"):
        if not (isinstance(fmt, FixedPoint) and fmt.frac_bits == 0 and fmt.signed):
            raise ValueError(f"{where}: scaling={scaling!r} needs a signed integer input format "
                             f"(int8, int4, qM.0), got {fmt.name}")
    elif scaling == "nvfp4":
        if fmt.name != "fp4_e2m1fn":
            raise ValueError(f"{where}: scaling='nvfp4' needs input format fp4_e2m1fn, got "
                             f"{fmt.name}")
    elif (isinstance(fmt, FixedPoint) and not fmt.signed) or fmt.nbits > 16:
        raise ValueError(f"{where}: scaling='mx' needs a signed element format of at most 16 "
                         f"bits, got {fmt.name}")


def check_op_class(cls, where: str = "") -> str:
    """An op class name of OP_CLASSES; a ValueError naming the valid ones otherwise."""
    if cls not in OP_CLASSES:
        raise ValueError(f"{where + ': ' if where else ''}unknown op class {cls!r}; valid "
                         f"classes: {', '.join(OP_CLASSES)}")
    return cls


def _check_classes(table, where: str) -> dict:
    if not isinstance(table, dict):
        raise TypeError(f"{where} must be a dict of op class -> Pass, got {type(table).__name__}")
    for cls, spec in table.items():
        check_op_class(cls, where)
        if not isinstance(spec, Pass):
            raise TypeError(f"{where}.{cls} must be a Pass, got {type(spec).__name__}")
        spec.validate(f"{where}.{cls}")
        if spec.scaling is not None and cls != "matmul":
            raise ValueError(f"{where}.{cls}.scaling: per-tensor scaling applies to GEMM "
                             "operands, so only the matmul class can have it")
        if spec.scaling in ("channel", "tensor") and where.endswith(".backward"):
            raise ValueError(f"{where}.{cls}.scaling: integer codes ({spec.scaling!r}) apply to "
                             "the forward products; the backward pass runs on the dequantized "
                             "values (quantization-aware training's straight-through estimator)")
    return table


def _check_layers(layers, where):
    """Per-layer overrides, validated and frozen: {layer: {phase: {op class: Pass}}}."""
    if not isinstance(layers, (dict, MappingProxyType)):
        raise TypeError(f"{where}.layers must be a dict of layer names, got "
                        f"{type(layers).__name__}")
    frozen = {}
    for layer, override in layers.items():
        if not isinstance(layer, str) or not layer:
            raise ValueError(f"{where}.layers: a layer name must be a non-empty str, got "
                             f"{layer!r}")
        if not isinstance(override, (dict, MappingProxyType)):
            raise TypeError(f"{where}.layers.{layer} must be a dict of phases")
        phases = {}
        for phase, table in override.items():
            if phase not in ("forward", "backward"):
                raise ValueError(f"{where}.layers.{layer}: phase must be 'forward' or "
                                 f"'backward', got {phase!r}")
            phases[phase] = MappingProxyType(_check_classes(dict(table),
                                                            f"{where}.layers.{layer}.{phase}"))
        frozen[layer] = MappingProxyType(phases)
    return MappingProxyType(frozen)


@dataclass(frozen=True, eq=False)
class Policy:
    """Formats and rounding for every op class, forward and backward, plus training storage.

    forward / backward map op classes to Passes; classes not named use `default`.
    mode: rounding mode of every op ("sr" is stochastic, seeded by `seed`); update_mode: rounding
    of the optimizer's weight update (defaults to mode). master / optimizer_state: storage formats
    of parameters and optimizer state. loss_scale: None, "dynamic" or a number (the scaling the
    policy is meant to be trained with). amax_history_len / fp8_margin: delayed scaling recipe.
    layers: per-layer passes that override the classes' ({layer: {"forward" | "backward":
    {op class: Pass}}}, layer names as numprec.nn.name_layers gives them: "fc1", "block.0"); an
    override of a layer applies to the layers inside it unless they have their own.
    """

    name: str
    default: Pass = Pass()
    forward: dict = field(default_factory=dict)
    backward: dict = field(default_factory=dict)
    mode: str = "rne"
    update_mode: str | None = None
    seed: int = 0
    master: object = "fp32"
    optimizer_state: object = "fp32"
    loss_scale: object = None
    amax_history_len: int = 1024
    fp8_margin: int = 0
    layers: dict = field(default_factory=dict)

    def __post_init__(self):
        where = f"policy {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"policy name must be a non-empty str, got {self.name!r}")
        if not isinstance(self.default, Pass):
            raise TypeError(f"{where}.default must be a Pass, got {type(self.default).__name__}")
        self.default.validate(f"{where}.default")
        if self.default.scaling is not None:
            raise ValueError(f"{where}.default.scaling: per-tensor scaling applies only to the "
                             "matmul class; set it there")
        fwd = _check_classes(dict(self.forward), f"{where}.forward")
        bwd = _check_classes(dict(self.backward), f"{where}.backward")
        object.__setattr__(self, "forward", MappingProxyType(fwd))
        object.__setattr__(self, "backward", MappingProxyType(bwd))
        for name in ("mode", "update_mode"):
            value = getattr(self, name)
            if value is None and name == "update_mode":
                object.__setattr__(self, "update_mode", self.mode)
            elif value not in MODES:
                raise ValueError(f"{where}.{name}: invalid rounding mode {value!r}; valid modes: "
                                 f"{', '.join(MODES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**64:
            raise ValueError(f"{where}.seed must be an int in [0, 2**64), got {self.seed!r}")
        for name in ("master", "optimizer_state"):
            value = getattr(self, name)
            if value == PROMOTE:
                raise ValueError(f"{where}.{name} must be a format, not 'promote'")
            check_format_name(value, f"{where}.{name}")
        scale = self.loss_scale
        if scale not in LOSS_SCALES and not (isinstance(scale, (int, float))
                                             and not isinstance(scale, bool) and scale > 0):
            raise ValueError(f"{where}.loss_scale must be None, 'dynamic' or a positive number, "
                             f"got {scale!r}")
        if isinstance(self.amax_history_len, bool) or not isinstance(self.amax_history_len, int) \
                or self.amax_history_len < 1:
            raise ValueError(f"{where}.amax_history_len must be a positive int, "
                             f"got {self.amax_history_len!r}")
        if isinstance(self.fp8_margin, bool) or not isinstance(self.fp8_margin, int):
            raise ValueError(f"{where}.fp8_margin must be an int, got {self.fp8_margin!r}")
        object.__setattr__(self, "layers", _check_layers(self.layers, where))

    def pass_for(self, op_class: str, phase: str = "forward", layer: str | None = None) -> Pass:
        """The Pass of one op class in one phase ("forward" or "backward"), in `layer` (its
        own override, else its enclosing layers', else the class's)."""
        check_op_class(op_class)
        table = self.forward if phase == "forward" else self.backward
        if phase not in ("forward", "backward"):
            raise ValueError(f"phase must be 'forward' or 'backward', got {phase!r}")
        if layer and self.layers:
            name = layer
            while True:
                override = self.layers.get(name)
                if override is not None and op_class in override.get(phase, ()):
                    return override[phase][op_class]
                if "." not in name:
                    break
                name = name.rsplit(".", 1)[0]
        return table.get(op_class, self.default)

    def with_layer_pass(self, layer: str, phase: str, op_class: str, spec) -> "Policy":
        """A copy whose `layer` runs op class `op_class` in `phase` with Pass `spec` (None:
        remove that override)."""
        layers = {name: {ph: dict(t) for ph, t in override.items()}
                  for name, override in self.layers.items()}
        entry = layers.setdefault(layer, {})
        if spec is None:
            entry.get(phase, {}).pop(op_class, None)
            if not any(entry.values()):
                layers.pop(layer)
        else:
            entry.setdefault(phase, {})[op_class] = spec
        return replace(self, layers=layers)

    def replace(self, **changes) -> "Policy":
        """A copy with some fields changed (e.g. policy.replace(mode="sr", seed=3))."""
        return replace(self, **changes)

    def describe(self) -> dict:
        """A plain dict (JSON/TOML-ready) that numprec.policy.policy_from_dict turns back into
        it."""
        def spec(p: Pass) -> dict:
            return {k: _name(getattr(p, k)) for k in PASS_FIELDS if getattr(p, k) is not None}
        return {"name": self.name, "mode": self.mode, "update_mode": self.update_mode,
                "seed": self.seed, "master": _name(self.master),
                "optimizer_state": _name(self.optimizer_state), "loss_scale": self.loss_scale,
                "amax_history_len": self.amax_history_len, "fp8_margin": self.fp8_margin,
                "classes": {cls: {"forward": spec(self.pass_for(cls, "forward")),
                                  "backward": spec(self.pass_for(cls, "backward"))}
                            for cls in OP_CLASSES},
                **({"layers": {layer: {cls: {phase: spec(table[cls])
                                             for phase, table in override.items()
                                             if cls in table}
                                       for cls in sorted({c for t in override.values()
                                                          for c in t})}
                               for layer, override in self.layers.items()}}
                   if self.layers else {})}

    def __repr__(self) -> str:
        return f"Policy({self.name!r})"


def _name(fmt) -> str:
    return fmt if isinstance(fmt, str) else fmt.name


# Outside autocast every op runs in the widest format of its inputs (as frameworks do).
NATIVE = Policy("native", master="fp32", optimizer_state="fp32")
