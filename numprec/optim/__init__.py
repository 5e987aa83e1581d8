"""Optimizers with master weights and optimizer state in a policy's formats, and LR schedules."""
from .adam import Adam, AdamW
from .lr_scheduler import CosineAnnealingLR, LinearLR, LRScheduler, StepLR, WarmupCosineLR
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "LRScheduler", "StepLR", "CosineAnnealingLR",
           "LinearLR", "WarmupCosineLR"]
