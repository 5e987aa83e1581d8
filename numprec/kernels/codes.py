"""Integer codes shared by the Python layer and the kernels (modes, flags, kernel-parameter slots)."""

MODES = ("rne", "rna", "rtz", "rup", "rdn", "rto", "sr")
RNE, RNA, RTZ, RUP, RDN, RTO, SR = range(7)
MODE_CODE = {name: code for code, name in enumerate(MODES)}

# Flag bits, in the order numprec.Flags reports them.
FLAG_NAMES = ("inexact", "underflow", "overflow", "invalid", "divbyzero", "saturated", "flushed")
INEXACT, UNDERFLOW, OVERFLOW, INVALID, DIVBYZERO, SATURATED, FLUSHED = (1 << i for i in range(7))
NFLAGS = len(FLAG_NAMES)

# Format kinds (same numbers as numprec.formats.descriptor).
KIND_IEEE, KIND_FN, KIND_FNUZ, KIND_NONE, KIND_FIXED = 0, 1, 2, 3, 4

# Slots of Format.kernel_params.
P_MBITS, P_EMIN, P_QMAX, P_MAXM_POS, P_MAXM_NEG, P_KIND, P_SUBNORMALS, P_EBITS, P_BIAS, P_NBITS = range(10)

# Stochastic rounding draws at most this many random bits per rounding.
SR_MAX_BITS = 62
