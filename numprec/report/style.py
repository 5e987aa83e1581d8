"""The figure style of every numprec report: matplotlib with the Agg backend (no screen needed),
small paper-sized fonts, light grids, fixed colours per rounding mode, 150-dpi PNG. Figure
modules take `plt` from here, so the backend is chosen before pyplot is first used."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

DPI = 150
STYLE = {"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7,
         "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.alpha": 0.3, "grid.linewidth": 0.5, "lines.linewidth": 1.2}
MODE_COLORS = {"rne": "#1f77b4", "rna": "#ff7f0e", "rtz": "#2ca02c", "rup": "#d62728",
               "rdn": "#9467bd", "rto": "#8c564b", "sr": "#e377c2"}


def format_colors(names) -> dict:
    """Distinct colours: tab20's ten strong shades first, then its light ones."""
    cmap = plt.get_cmap("tab20")
    order = list(range(0, 20, 2)) + list(range(1, 20, 2))
    return {name: cmap(order[i % 20]) for i, name in enumerate(names)}


def save(fig, path) -> None:
    """Write a figure as a DPI-dpi PNG (tight bounding box) and free it."""
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)


# Okabe & Ito's colour-blind-safe palette (their yellow is left out: too faint for thin lines)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def marker_for(points: int) -> str | None:
    """A marker for short series (a run that stopped early is a few points), none for long."""
    return "o" if points <= 25 else None
LINESTYLES = ("-", "--", ":", "-.")
FIGURE_FORMATS = ("png", "svg", "pdf")
COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper
_NO_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def save_all(fig, stem) -> list:
    """Write a figure as PNG (DPI dpi), SVG and PDF (vector, for papers) beside each other
    (`stem` without suffix), free it, and return the paths."""
    paths = []
    for suffix in FIGURE_FORMATS:
        path = f"{stem}.{suffix}"
        # no timestamps and fixed element ids in the vector files: the same run gives the same
        # bytes (SVG ids are random unless salted)
        with matplotlib.rc_context({"svg.hashsalt": "numprec"}):
            fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata=_NO_DATE.get(suffix))
        paths.append(path)
    plt.close(fig)
    return paths
