"""numprec.functional: every differentiable op, gathered from the modules that define them by topic.

    elementwise   add sub mul div neg pow exp log sqrt tanh sigmoid relu gelu
    linalg        matmul linear
    reductions    sum mean max
    movement      reshape flatten transpose getitem concatenate cat cast
    nnops         softmax log_softmax cross_entropy mse_loss layer_norm dropout embedding
    conv          conv2d max_pool2d avg_pool2d
    attention     scaled_dot_product_attention

Each op runs through numprec.autodiff.graph.apply under the active precision policy; its
gradient is its rule in numprec.autodiff.vjp.
"""
from .attention import scaled_dot_product_attention
from .conv import avg_pool2d, conv2d, max_pool2d
from .elementwise import add, div, exp, gelu, log, mul, neg, pow, relu, sigmoid, sqrt, sub, tanh
from .linalg import linear, matmul
from .movement import cast, cat, concatenate, flatten, getitem, reshape, transpose
from .nnops import (cross_entropy, dropout, embedding, layer_norm, log_softmax, mse_loss,
                    softmax)
from .reductions import max, mean, sum

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "matmul", "exp", "log", "sqrt", "tanh",
           "sigmoid", "relu", "gelu", "sum", "mean", "max", "reshape", "flatten", "transpose",
           "getitem", "concatenate", "cat", "cast", "linear", "softmax", "log_softmax",
           "cross_entropy", "mse_loss", "layer_norm", "dropout", "embedding",
           "scaled_dot_product_attention", "conv2d", "avg_pool2d", "max_pool2d"]
