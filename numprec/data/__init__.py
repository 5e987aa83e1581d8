"""Small datasets for training studies."""
from .digits import DATA_FILE, load_digits, split_dataset

__all__ = ["load_digits", "split_dataset", "DATA_FILE"]
