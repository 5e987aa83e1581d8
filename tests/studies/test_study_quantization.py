"""The quantization study, end to end at its quick size, and its cells' measurements."""
import numpy as np
import pandas as pd
import pytest

from numprec.studies.quantization import experiments as ex
from numprec.studies.quantization import study


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "study_quantization"
    assert study.main(["--out", str(out), "--quick"]) == 0
    return out


def test_writes_the_report_figures_and_data(report_dir):
    assert (report_dir / "report.html").exists()
    for stem in ("accuracy_vs_bits", "accuracy_vs_sparsity", "sensitivity"):
        assert (report_dir / "figures" / f"{stem}.png").exists()
        assert (report_dir / "data" / f"{stem}.csv").exists()
    for name in ("results", "sparsity", "sensitivity", "summary", "observers", "storage"):
        assert (report_dir / "data" / f"{name}.csv").exists()


def test_the_tables_hold_every_scheme_and_observer(report_dir):
    results = pd.read_csv(report_dir / "data" / "results.csv", keep_default_na=False)
    ptq = results[results["method"] == "PTQ"]
    assert set(ptq["scheme"]) == {ex.scheme_label(*s) for s in ex.SCHEMES}
    ints = ptq[ptq["family"].str.startswith("int")]
    assert set(ints["observer"]) == set(ex.OBSERVERS)
    qat = results[results["method"] == "QAT"]
    assert set(qat["scheme"]) == {ex.scheme_label(*s) for s in study.SETTINGS["quick"]["qat"]}
    assert ((results["accuracy"] >= 0) & (results["accuracy"] <= 1)).all()
    sparsity = pd.read_csv(report_dir / "data" / "sparsity.csv", keep_default_na=False)
    assert set(sparsity["target"].astype(str)) == {"0.0", "0.5", "2:4"}
    assert set(sparsity["precision"]) == {"fp32", "int8"}


def test_storage_counts_every_layout(report_dir):
    storage = pd.read_csv(report_dir / "data" / "storage.csv", keep_default_na=False)
    dense = storage[(storage["target"] == "0.0") & (storage["format"] == "fp32")]
    assert float(dense["dense_bytes"].iloc[0]) == 4 * (64 * 256 + 256 * 10)  # the MLP's weights
    structured = storage[storage["target"] == "2:4"].set_index("format")
    # 2:4 keeps half the values at the format's width, plus one metadata byte per 8 elements
    n = 64 * 256 + 256 * 10
    assert float(structured.loc["fp32", "2:4_bytes"]) == 4 * n // 2 + n // 8
    assert float(structured.loc["fp4_e2m1fn", "2:4_bytes"]) == n // 4 + n // 8


def test_pruning_reaches_its_target_and_the_masks_survive_fine_tuning():
    frame = ex.sparsity_cell("mlp", 0.7, 20, 20, 32, 0, 64)
    frame = frame[frame["table"] == "sparsity"]
    for method in ("one-shot", "gradual + fine-tune"):
        measured = frame[frame["method"] == method]["measured_sparsity"]
        assert np.allclose(measured, 0.7, atol=0.01), (method, measured)
    structured = ex.sparsity_cell("mlp", "2:4", 20, 10, 32, 0, 64)
    structured = structured[structured["table"] == "sparsity"]
    assert np.allclose(structured["measured_sparsity"], 0.5, atol=0.01)


def test_ptq_of_8_bits_tracks_fp32_and_2_bits_loses():
    frame = ex.ptq_cell("mlp", 150, 32, 0, 128)
    base = float(frame[frame["method"] == "fp32"]["accuracy"].iloc[0])
    int8 = frame[(frame["scheme"] == "int8 per channel") & (frame["observer"] == "minmax")]
    int2 = frame[(frame["scheme"] == "int2 per tensor") & (frame["observer"] == "minmax")]
    assert abs(float(int8["accuracy"].iloc[0]) - base) <= 0.02
    assert float(int2["accuracy"].iloc[0]) < base - 0.1
