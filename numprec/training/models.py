"""The models `numprec train` and the training benchmark build (for 8x8 digit images)."""
from __future__ import annotations

from .. import nn
from ..autodiff import functional as F

MODELS = ("mlp", "cnn")


class MLP(nn.Module):
    """64 -> 256 -> 10 with ReLU: the classic AMP example's model."""

    def __init__(self, hidden: int = 256):
        super().__init__()
        self.fc1 = nn.Linear(64, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class SmallCNN(nn.Module):
    """(1, 8, 8) -> conv 8 -> pool -> conv 16 -> pool -> linear 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = x.reshape(x.shape[0], 1, 8, 8)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(F.flatten(x))


def build_model(name: str) -> nn.Module:
    """A fresh model (initialised from numprec.manual_seed's generator)."""
    if name == "mlp":
        return MLP()
    if name == "cnn":
        return SmallCNN()
    raise ValueError(f"unknown model {name!r}; valid models: {', '.join(MODELS)}")
