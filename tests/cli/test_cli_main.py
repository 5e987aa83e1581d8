"""The `numprec` command: its parser, `formats`, `report` and `bench`, in-process and once as a
real process."""
import csv
import io
import os
import subprocess
import sys
import types
from pathlib import Path

import numprec
from numprec.cli import main

REPO = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("formats", "inspect", "train", "study", "report", "bench"):
        assert f"    {command} " in out


def test_no_command_prints_help_and_fails(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "COMMAND" in out


def test_unknown_command_is_one_line(capsys):
    code, out, err = run(capsys, "frobnicate")
    assert code == 2 and out == ""
    assert err.startswith("numprec: error: argument COMMAND: invalid choice: 'frobnicate'")
    assert err.count("\n") == 1


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"numprec {numprec.__version__}"


def test_formats_table_has_every_format(capsys):
    code, out, _ = run(capsys, "formats")
    assert code == 0
    lines = out.splitlines()
    for name in numprec.format_names():
        fmt = numprec.get_format(name)
        row = next(line for line in lines if line.split()[:1] == [name])
        assert row.split()[1:5] == [str(fmt.nbits), str(fmt.ebits), str(fmt.mbits), str(fmt.bias)]
        assert fmt.describe_encoding() in row
    assert any(line.startswith("fixed point: qM.N") for line in lines)
    fp16 = next(line for line in lines if line.startswith("fp16 "))
    assert fp16.split()[5:10] == ["65504", "2^-14", "2^-24", "2^-10", "2^-11"]


def test_formats_csv_round_trips_every_limit(capsys):
    code, out, _ = run(capsys, "formats", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["name"] for row in rows] == numprec.format_names()
    for row in rows:
        fmt = numprec.get_format(row["name"])
        for key, want in (("max", fmt.max), ("min_normal", fmt.min_normal),
                          ("min_subnormal", fmt.min_subnormal), ("eps", fmt.eps), ("u", fmt.u)):
            if row[key] == "none":  # a format without subnormals (E8M0)
                assert key == "min_subnormal" and not fmt.subnormals, (row["name"], key)
                continue
            assert float(row[key]) == want, (row["name"], key)
        assert int(row["bits"]) == fmt.nbits and row["encoding"] == fmt.describe_encoding()


def test_report_of_something_that_is_not_a_run_is_one_line_and_status_2(capsys, tmp_path):
    code, out, err = run(capsys, "report", str(tmp_path / "missing"), "--out",
                         str(tmp_path / "r"))
    assert code == 2 and out == ""
    assert err == f"numprec: error: run directory {str(tmp_path / 'missing')!r} does not exist\n"
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "report", str(tmp_path / "empty"), "--out", str(tmp_path / "r"))
    assert code == 2 and "is not a numprec run (no run.json)" in err and err.count("\n") == 1
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.json").write_text("{not json")
    code, _, err = run(capsys, "report", str(tmp_path / "bad"), "--out", str(tmp_path / "r"))
    assert code == 2 and "is corrupt" in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_bench_forwards_every_argument(capsys, monkeypatch):
    seen = []
    for name in ("rounding", "matmul"):
        fake = types.ModuleType(f"numprec.studies.bench.{name}")
        fake.main = lambda argv, name=name: seen.append((name, argv)) or 0
        monkeypatch.setitem(sys.modules, f"numprec.studies.bench.{name}", fake)
    assert run(capsys, "bench", "--n", "1000", "--help")[0] == 0
    assert run(capsys, "bench", "matmul", "--sizes", "8")[0] == 0
    assert seen == [("rounding", ["--n", "1000", "--help"]), ("matmul", ["--sizes", "8"])]


def test_bench_unknown_name_is_a_clear_error(capsys):
    code, out, err = run(capsys, "bench", "roundnig")
    assert code == 2 and out == ""
    assert err == ("numprec: error: unknown benchmark 'roundnig'; valid benchmarks: rounding, "
                   "matmul, training, monitor, startup, quant\n")


def test_study_runs_a_study_by_name(capsys, monkeypatch, tmp_path):
    from numprec.studies import rounding as study_rounding
    calls = []
    monkeypatch.setattr(study_rounding, "run_study", lambda out, *, quick, full, seed:
                        calls.append((out, quick, full, seed)) or Path(out) / "report.md")
    code, out, _ = run(capsys, "study", "rounding", "--quick")
    assert code == 0 and calls == [("reports/study_rounding", True, False, 0)]
    assert out.strip() == "report written to reports/study_rounding/report.md"
    code, out, _ = run(capsys, "study", "rounding", "--full", "--seed", "3")
    assert code == 0 and calls[-1] == ("reports/study_rounding", False, True, 3)
    code, out, err = run(capsys, "study", "rouding")
    assert code == 2 and err == ("numprec: error: unknown study 'rouding'; valid studies: "
                                 "rounding, error-accumulation, vanishing-gradients, "
                                 "loss-scaling, update-stagnation, quantization\n")
    code, out, err = run(capsys, "study", "rounding", "--quick", "--full")
    assert code == 2 and "--full" in err and len(err.strip().splitlines()) == 1


def test_bench_missing_dependency_names_the_extra(capsys, monkeypatch):
    from numprec.cli import bench_cmd

    def import_needing_gfloat(name):
        raise ModuleNotFoundError("No module named 'gfloat'", name="gfloat")

    monkeypatch.setattr(bench_cmd.importlib, "import_module", import_needing_gfloat)
    code, _, err = run(capsys, "bench")
    assert code == 2
    assert err == ("numprec: error: the rounding benchmark needs 'gfloat': pip install "
                   "'numprec[bench]' (or pip install -e '.[bench]' in a checkout)\n")


def test_python_dash_m_numprec_runs_as_a_process():
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    done = subprocess.run([sys.executable, "-m", "numprec", "inspect", "-1.5", "-f", "bf16"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "rne result  -1.5" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "numprec", "formats", "--bogus"], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert bad.stderr == "numprec: error: unrecognized arguments: --bogus\n"


def test_study_into_an_unwritable_place_fails_before_computing(capsys, monkeypatch):
    from numprec.studies.rounding import study as study_rounding

    def no_compute(*args, **kwargs):
        raise AssertionError("the study ran although its output cannot be written")

    monkeypatch.setattr(study_rounding, "compute", no_compute)
    code, out, err = run(capsys, "study", "rounding", "--quick", "--out",
                         "/proc/no-such-dir/report")
    assert code == 2 and out == ""
    assert err.startswith("numprec: error: ") and err.count("\n") == 1
