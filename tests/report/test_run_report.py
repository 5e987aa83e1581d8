"""Reports render from tiny runs: files, figures, a parsable self-contained HTML, escaping."""
import shutil
from html.parser import HTMLParser

import pytest

from numprec.data.digits import load_digits, split_dataset
from numprec.report.run_report import write_run_report
from numprec.report.run_figures import FIGURES
from numprec.training import TrainConfig, TrainingStopped, train


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    data = split_dataset(*load_digits(), seed=0)
    root = tmp_path_factory.mktemp("runs")
    ok = root / "amp <b>&"  # a label that must be escaped
    train(TrainConfig(policy="fp16-amp", steps=4, monitor=True, whatif=("e4m3",),
                      checkpoint_every=2, shadow="re-anchored"), data, out=str(ok))
    failed = root / "fp16"
    with pytest.raises(TrainingStopped, match="first NaN/inf at step"):
        train(TrainConfig(policy="fp16", steps=6, monitor=True), data, out=str(failed))
    return [ok, failed]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.images, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


# figures drawn only for runs that have their data (test_adjust covers the switches)
DRAWN = [f for f in FIGURES if f[0] != "precision_switches"]


def test_the_report_has_every_file_and_figure(runs, tmp_path):
    report = write_run_report([str(r) for r in runs], tmp_path / "rep")
    folder = report.parent
    assert (folder / "report.md").is_file()
    assert not (folder / "figures" / "precision_switches.png").exists()  # no run adjusted
    for stem, _, _ in DRAWN:
        for suffix in ("png", "svg", "pdf"):
            path = folder / "figures" / f"{stem}.{suffix}"
            assert path.is_file() and path.stat().st_size > 2000, path
        assert (folder / "data" / f"{stem}.csv").stat().st_size > 20
    html_text = report.read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(html_text)
    parser.close()
    assert parser.tags[:1] == ["html"] and "table" in parser.tags
    assert len(parser.images) == len(DRAWN)
    assert all(img["src"].startswith("data:image/png;base64,") for img in parser.images)
    assert "http://" not in html_text and "https://" not in html_text  # opens offline
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    for stem, _, _ in DRAWN:
        assert f"figures/{stem}.png" in markdown


def test_the_shadow_ranking_is_in_the_report(runs, tmp_path):
    report = write_run_report([str(r) for r in runs], tmp_path / "rep")
    ranking = (report.parent / "data" / "shadow.csv").read_text().splitlines()
    assert ranking[0].startswith("run,mode,layer,tensor,kind,op,mean_rel_error")
    assert len(ranking) > 3 and "Where the error enters" in report.read_text()


def test_every_string_from_a_run_is_escaped(runs, tmp_path):
    report = write_run_report([str(r) for r in runs], tmp_path / "rep")
    html_text = report.read_text(encoding="utf-8")
    assert "amp <b>&" not in html_text
    assert "amp &lt;b&gt;&amp;" in html_text


def test_the_failed_run_is_named_with_its_first_nonfinite_op(runs, tmp_path):
    report = write_run_report([str(r) for r in runs], tmp_path / "rep")
    failures = (report.parent / "data" / "failures.csv").read_text()
    line = next(row for row in failures.splitlines() if row.startswith("fp16,"))
    assert ",forward," in line or ",update," in line or ",backward," in line
    assert "overflow" in line


def test_a_run_directory_that_is_not_a_run_is_refused(tmp_path, runs):
    (tmp_path / "notrun").mkdir()
    with pytest.raises(ValueError, match="is not a numprec run"):
        write_run_report([str(runs[0]), str(tmp_path / "notrun")], tmp_path / "rep")
    (tmp_path / "corrupt").mkdir()
    shutil.copytree(runs[0], tmp_path / "corrupt", dirs_exist_ok=True)
    (tmp_path / "corrupt" / "tensors.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match="tensors.parquet.* is corrupt"):
        write_run_report([str(tmp_path / "corrupt")], tmp_path / "rep")
    assert not (tmp_path / "rep").exists()
