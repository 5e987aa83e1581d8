"""Every integer code shared by the Python layer and the compiled kernels, defined once.

Kernels take plain integers: a rounding mode, flag bits, a format's parameter tuple, an op code, an
accumulation order and its configuration tuple, and one random stream per independent rounding.
Python and the kernels must agree on each number, so each is defined here and nowhere else; every
other module imports it from here and writes no literal in its place. This module imports nothing,
so every layer (formats included) can use it.
"""

# --- rounding modes ---------------------------------------------------------------------------
MODES = ("rne", "rna", "rtz", "rup", "rdn", "rto", "sr")
RNE, RNA, RTZ, RUP, RDN, RTO, SR = range(len(MODES))
MODE_CODE = {name: code for code, name in enumerate(MODES)}
# Stochastic rounding draws at most this many random bits per rounding (rbits=1..SR_MAX_BITS).
SR_MAX_BITS = 62

# --- exception flags: bit i of a kernel's flag word, in the order numprec.Flags reports them ----
FLAG_NAMES = ("inexact", "underflow", "overflow", "invalid", "divbyzero", "saturated", "flushed")
INEXACT, UNDERFLOW, OVERFLOW, INVALID, DIVBYZERO, SATURATED, FLUSHED = (
    1 << bit for bit in range(len(FLAG_NAMES)))
NFLAGS = len(FLAG_NAMES)
# Events the arithmetic also marks in the flag word (above the flags), for the monitors: a result
# rounded to zero from a nonzero exact value (ftz flushes included), a subnormal result, and an
# accumulation step whose nonzero term left the running state unchanged (swamped).
EVENT_NAMES = ("zeroed", "subnormal", "swamped")
ZEROED, SUBNORMAL, SWAMPED = (1 << (NFLAGS + bit) for bit in range(len(EVENT_NAMES)))
NEVENTS = len(EVENT_NAMES)
# What a kernel's `counts` array holds: one count per flag, then one per event.
COUNT_NAMES = FLAG_NAMES + EVENT_NAMES
NCOUNTS = len(COUNT_NAMES)
COUNT_SLOT = {name: bit for bit, name in enumerate(COUNT_NAMES)}  # index of a count (= its bit)

# --- format kinds: a float format's inf/NaN convention, or fixed point -------------------------
NAN_CONVENTIONS = ("ieee", "fn", "fnuz", "none")
KIND_IEEE, KIND_FN, KIND_FNUZ, KIND_NONE, KIND_FIXED = range(len(NAN_CONVENTIONS) + 1)
KIND_CODE = {name: code for code, name in enumerate(NAN_CONVENTIONS)}

# --- slots of a format's parameter tuple (Format.kernel_params, FixedPoint.kernel_params) ------
# mbits; emin; qmax (exponent of the last place at the top binade); the largest integer
# significand of a positive and of a negative value at qmax; kind; subnormals (0/1); ebits; bias;
# nbits; signed (0: an unsigned float format has no sign bit, and a negative result is invalid;
# fixed point keeps its sign in P_MAXM_NEG, 0 when unsigned); zero (0: the format has no zero,
# its biased exponent 0 is a normal binade, as in E8M0); wrap (1: fixed point wraps on overflow,
# two's complement, instead of saturating).
(P_MBITS, P_EMIN, P_QMAX, P_MAXM_POS, P_MAXM_NEG, P_KIND, P_SUBNORMALS, P_EBITS, P_BIAS,
 P_NBITS, P_SIGNED, P_ZERO, P_WRAP) = range(13)
NPARAMS = P_WRAP + 1
# What a fixed-point format does with a rounded value beyond its range (FixedPoint.overflow).
FIXED_OVERFLOW = ("saturate", "wrap")

# Slots of a kernel's tally array: the counts (flags, events), then the elements that have no bit
# pattern in the format (encode of NaN where the format has none).
TALLY_UNENCODABLE = NCOUNTS
TALLY_SLOTS = NCOUNTS + 1

# --- element-wise arithmetic: op codes of the arithmetic kernel ---------------------------------
ARITH_OPS = ("add", "sub", "mul", "div", "sqrt", "fma")
OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SQRT, OP_FMA = range(len(ARITH_OPS))
OP_CODE = {name: code for code, name in enumerate(ARITH_OPS)}
BINARY_OPS = {name: OP_CODE[name] for name in ("add", "sub", "mul", "div")}

# --- accumulation orders ----------------------------------------------------------------------
# The first five run in the kernels (numprec.kernels.scalar.accum); fp64 is float64 BLAS / NumPy
# and one rounding, done on the host, and never reaches a kernel.
ORDERS = ("sequential", "pairwise", "blocked", "kahan", "fused", "fp64")
SEQUENTIAL, PAIRWISE, BLOCKED, KAHAN, FUSED, FP64_ORDER = range(len(ORDERS))
ORDER_CODE = {name: code for code, name in enumerate(ORDERS)}
KERNEL_ORDERS = ORDERS[:FP64_ORDER]

# Slots of an accumulation's configuration tuple C.
(C_ORDER, C_BLOCK, C_TERMS, C_WIDTH, C_USE_Y, C_USE_PROD, C_EXACT, C_MODE, C_SAT, C_FTZ,
 C_RBITS) = range(11)
NCONFIG = C_RBITS + 1
# Most terms of one fused group: the exact sum of a group's truncated addends (each below 2^53)
# must fit in an int64.
MAX_FUSED_TERMS = 256

# --- stochastic-rounding streams ----------------------------------------------------------------
# Independent roundings draw independent bits: each has a stream number s, and its key is
# key_from_seed(seed, s) (numprec.kernels.scalar.rng). Element i of a rounding then draws
# random62(key, i). Changing a number here changes every committed stochastic result.
STREAM_ROUND = 0                                            # numprec.round / encode
STREAM_ARITH = {"add": 1, "sub": 2, "mul": 3, "div": 4, "sqrt": 5, "fma": 6}
STREAM_ACCUM = {"sum": 16, "dot": 32, "matmul": 48}         # first stream of each reduction op
# Within a reduction op, role r draws from stream STREAM_ACCUM[op] + r. The kernels use roles
# K_STEP .. K_MERGE (keys[0:NKEYS]); the host rounds the inputs to in_fmt with K_INPUT_A/B.
(K_STEP, K_PRODUCT, K_PROMOTE, K_OUT, K_KAHAN_Y, K_KAHAN_D, K_KAHAN_C, K_MERGE,
 K_INPUT_A, K_INPUT_B) = range(10)
NKEYS = K_MERGE + 1
NROLES = K_INPUT_B + 1
# The engine gives each stochastic rounding of a training run a seed of its own: the n-th is
# key_from_seed(policy seed ^ key_from_seed(run seed), n) (numprec.policy.streams), which then
# feeds the streams above.
