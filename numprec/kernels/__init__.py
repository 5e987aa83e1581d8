"""The kernels: scalar code written once, compiled for each target.

    scalar/   the one source: rounding, arithmetic, accumulation, the random generator, flag
              counting, as plain Python functions (no numba import)
    cpu/      numba.njit array kernels (parallel where it pays)
    gpu/      numba.cuda array kernels (the CUDA simulator runs them without a GPU)
    jit.py    every JIT flag, the kernel cache and compile_scalars

Each target package has `kernel_set()`, a namespace whose entry points (ENTRY_POINTS) take the
same arguments and return the same results on every target; numprec.ops asks for one by backend
name (numprec.ops.backend.kernels). The integer codes the kernels share with Python are in
numprec.codes.
"""

# The entry points of a kernel set, in both targets' namespaces with the same signatures.
ENTRY_POINTS = ("round_into", "encode_into", "decode_into", "binary_into", "sqrt_into",
                "fma_into", "reduce_into", "matmul_into", "matmul_sequential_into")
