"""Composite blocks: residual connections, multi-head self-attention, a transformer encoder block."""
from __future__ import annotations

import numpy as np

from ..autodiff import functional as F
from ..autodiff.tensor import Tensor
from .layers import GELU, Conv2d, Dropout, LayerNorm, Linear
from .module import Module, Sequential


class Residual(Module):
    """x + body(x)."""

    def __init__(self, body: Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class ResidualBlock(Module):
    """ResNet's basic block without normalisation: relu(x + conv(relu(conv(x))))."""

    def __init__(self, channels: int, kernel_size: int = 3):
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = Conv2d(channels, channels, kernel_size, padding=pad)
        self.conv2 = Conv2d(channels, channels, kernel_size, padding=pad)

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class MultiheadSelfAttention(Module):
    """Self-attention over x (batch, tokens, embed_dim) with num_heads heads; causal=True masks
    future tokens."""

    def __init__(self, embed_dim: int, num_heads: int, causal: bool = False, dropout: float = 0.0):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadSelfAttention: embed_dim {embed_dim} is not divisible by "
                             f"num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.causal = embed_dim, num_heads, causal
        self.qkv = Linear(embed_dim, 3 * embed_dim)
        self.out = Linear(embed_dim, embed_dim)
        self.dropout = Dropout(dropout)

    def forward(self, x):
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiheadSelfAttention: input shape {x.shape} must be "
                             f"(batch, tokens, {self.embed_dim})")
        batch, tokens, _ = x.shape
        head_dim = self.embed_dim // self.num_heads
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, head_dim)
        qkv = qkv.transpose(2, 0, 3, 1, 4)                   # (3, batch, heads, tokens, head_dim)
        q, k, v = qkv[0], qkv[1], qkv[2]
        mask = None
        if self.causal:
            above = np.triu(np.ones((tokens, tokens), dtype=bool), k=1)
            mask = Tensor(np.where(above, -np.inf, 0.0), format="fp32")
        attended = F.scaled_dot_product_attention(q, k, v, mask)
        merged = self.dropout(attended).transpose(0, 2, 1, 3).reshape(batch, tokens, self.embed_dim)
        return self.out(merged)


class TransformerEncoderBlock(Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x)) with a GELU MLP."""

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: int = 4, dropout: float = 0.0,
                 causal: bool = False):
        super().__init__()
        self.norm1 = LayerNorm(embed_dim)
        self.attn = MultiheadSelfAttention(embed_dim, num_heads, causal, dropout)
        self.norm2 = LayerNorm(embed_dim)
        self.mlp = Sequential(Linear(embed_dim, mlp_ratio * embed_dim), GELU(),
                              Linear(mlp_ratio * embed_dim, embed_dim), Dropout(dropout))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))
