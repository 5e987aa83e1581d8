"""Quantization, block-scaled formats and sparsity, bit-exact (docs/quantization.md)."""
from .mx import (MX_FORMATS, bfp_decode, bfp_encode, block_stats, e8m0_decode, mx_decode,
                 mx_encode, mx_quantize, shared_exponents)
from .nvfp4 import nvfp4_decode, nvfp4_encode, nvfp4_quantize
from .sparsity import (apply_mask, compress_24, cubic_sparsity, decompress_24, magnitude_mask,
                       nm_mask, sparsity_of, storage_bytes, threshold_mask, to_coo, to_csr,
                       topk_mask)
from .quantize import Quantized, dequantize, quantize
from .observers import OBSERVERS, Observer, make_observer
from .intmatmul import IntMatmulResult, int_matmul
from .requant import quantize_multiplier, requantize, requantize_fixed

__all__ = ["MX_FORMATS", "bfp_decode", "bfp_encode", "block_stats", "e8m0_decode", "mx_decode",
           "mx_encode", "mx_quantize", "shared_exponents",
           "nvfp4_decode", "nvfp4_encode", "nvfp4_quantize",
           "apply_mask", "compress_24", "cubic_sparsity", "decompress_24", "magnitude_mask",
           "nm_mask", "sparsity_of", "storage_bytes", "threshold_mask", "to_coo", "to_csr",
           "topk_mask",
           "Quantized", "dequantize", "quantize", "OBSERVERS", "Observer", "make_observer",
           "IntMatmulResult", "int_matmul", "quantize_multiplier", "requantize",
           "requantize_fixed"]
