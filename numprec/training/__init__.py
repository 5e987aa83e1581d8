"""Training runs: models, the reproducible loop behind `numprec train`, atomic outputs."""
from .loop import TrainConfig, TrainingStopped, evaluate, make_scaler, train
from .models import MODELS, build_model
from .outputs import load_checkpoint

__all__ = ["TrainConfig", "TrainingStopped", "train", "evaluate", "make_scaler", "MODELS",
           "build_model", "load_checkpoint"]
