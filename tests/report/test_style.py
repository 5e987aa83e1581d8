"""numprec.report.style: figures in every format, byte-identical when drawn twice."""
from pathlib import Path

from numprec.report.style import FIGURE_FORMATS, plt, save_all


def _draw(stem):
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1.0, 0.5, 0.25], label="loss")
    ax.legend()
    return save_all(fig, stem)


def test_the_same_figure_gives_the_same_bytes_in_every_format(tmp_path):
    first = _draw(tmp_path / "a")
    second = _draw(tmp_path / "b")
    assert [Path(p).suffix[1:] for p in first] == list(FIGURE_FORMATS)
    for one, other in zip(first, second):
        assert Path(one).read_bytes() == Path(other).read_bytes(), one
