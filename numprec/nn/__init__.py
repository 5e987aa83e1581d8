"""Neural-network modules (PyTorch-shaped) whose ops run under numprec precision policies."""
from ..autodiff import functional
from . import init
from .blocks import MultiheadSelfAttention, Residual, ResidualBlock, TransformerEncoderBlock
from .layers import (GELU, AvgPool2d, Conv2d, CrossEntropyLoss, Dropout, Embedding, Flatten,
                     LayerNorm, Linear, MaxPool2d, MSELoss, ReLU, Sigmoid, Tanh)
from .module import Module, Parameter, Sequential, name_layers

__all__ = ["Module", "Parameter", "Sequential", "name_layers", "Linear", "Conv2d", "LayerNorm",
           "Embedding", "Dropout", "ReLU", "GELU", "Tanh", "Sigmoid", "Flatten", "MaxPool2d", "AvgPool2d",
           "CrossEntropyLoss", "MSELoss", "Residual", "ResidualBlock", "MultiheadSelfAttention",
           "TransformerEncoderBlock", "functional", "init"]
