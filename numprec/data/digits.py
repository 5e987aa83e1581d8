"""The 8x8 handwritten digits (UCI, 1797 images; scikit-learn's load_digits).

A compressed copy ships inside the package (numprec/data/digits.npz, pixels 0..16 as uint8,
installed as package data), so training works without scikit-learn and without the source tree;
scikit-learn's copy is the fallback.
"""
from __future__ import annotations

import os

import numpy as np

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.npz")


def load_digits() -> tuple:
    """(images (1797, 64) float64 pixels in 0..16, labels (1797,) int64)."""
    if os.path.isfile(DATA_FILE):
        with np.load(DATA_FILE) as archive:
            return archive["images"].astype(np.float64), archive["labels"].astype(np.int64)
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise FileNotFoundError(f"the digits data is missing: neither {DATA_FILE} nor "
                                "scikit-learn is available (pip install scikit-learn)") from None
    images, labels = sklearn_digits(return_X_y=True)
    return images.astype(np.float64), labels.astype(np.int64)


def load_npz(path: str) -> tuple:
    """(images, labels) from an .npz holding arrays `images` (n, features) and `labels` (n,)."""
    with np.load(path) as archive:
        missing = {"images", "labels"} - set(archive.files)
        if missing:
            raise ValueError(f"{path}: the .npz needs arrays 'images' and 'labels'; missing "
                             f"{', '.join(sorted(missing))}")
        images, labels = archive["images"].astype(np.float64), archive["labels"]
    if images.ndim != 2 or labels.shape != (len(images),):
        raise ValueError(f"{path}: images must be (n, features) and labels (n,), got "
                         f"{images.shape} and {labels.shape}")
    return images, labels.astype(np.int64)


def split_dataset(images, labels, seed: int = 0, n_train: int = 1500, scale: float = 16.0) -> dict:
    """A seeded train/test split, pixels divided by `scale` and stored as float32 (as the
    classic example does)."""
    order = np.random.default_rng(seed).permutation(len(images))
    if not 0 < n_train < len(images):
        raise ValueError(f"n_train={n_train} must leave a non-empty test set out of {len(images)}")
    x = (np.asarray(images, dtype=np.float64) / scale).astype(np.float32)
    train, test = order[:n_train], order[n_train:]
    return {"train_x": x[train], "train_y": labels[train], "test_x": x[test], "test_y": labels[test]}
