"""Plain-text tables for the terminal: aligned columns, one header rule, nothing else."""
from __future__ import annotations


def render(headers, rows, align=None) -> str:
    """Columns padded to their widest cell; `align` is a string of 'l'/'r', one per column."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    ncols = len(headers)
    if any(len(row) != ncols for row in cells):
        raise ValueError(f"every row needs {ncols} cells: {rows!r}")
    align = align or "l" * ncols
    widths = [max(len(row[i]) for row in cells) for i in range(ncols)]

    def line(row):
        padded = [cell.rjust(w) if a == "r" else cell.ljust(w)
                  for cell, w, a in zip(row, widths, align)]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])
