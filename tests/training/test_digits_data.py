"""The shipped digits data (numprec/data/digits.npz, package data) and the seeded split."""
import numpy as np
import pytest

from numprec.data import DATA_FILE, load_digits, split_dataset


def test_shipped_copy_is_scikit_learns_digits():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    images, labels = load_digits()
    ref_images, ref_labels = sklearn_datasets.load_digits(return_X_y=True)
    assert DATA_FILE.endswith("digits.npz")
    np.testing.assert_array_equal(images, ref_images)
    np.testing.assert_array_equal(labels, ref_labels)


def test_split_is_seeded_scaled_and_disjoint():
    images, labels = load_digits()
    first, again, other = (split_dataset(images, labels, seed=s) for s in (0, 0, 1))
    assert first["train_x"].shape == (1500, 64) and first["test_x"].shape == (297, 64)
    assert first["train_x"].dtype == np.float32 and first["train_x"].max() == 1.0
    np.testing.assert_array_equal(first["train_y"], again["train_y"])
    assert not np.array_equal(first["train_y"], other["train_y"])
    with pytest.raises(ValueError, match="n_train=1797 must leave a non-empty test set"):
        split_dataset(images, labels, n_train=1797)


def test_the_data_file_is_inside_the_package_and_is_what_loads(monkeypatch):
    import os

    import numprec
    package = os.path.dirname(os.path.abspath(numprec.__file__))
    assert os.path.commonpath([DATA_FILE, package]) == package and os.path.isfile(DATA_FILE)
    monkeypatch.setitem(__import__("sys").modules, "sklearn", None)  # no fallback available
    images, labels = load_digits()
    assert images.shape == (1797, 64) and labels.shape == (1797,)
