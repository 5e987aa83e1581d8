"""A report folder built block by block: prose, tables and figures, written as `report.md` and a
self-contained `report.html` (figures inlined), with every figure under `figures/` (PNG, SVG,
PDF) and every table and figure's data under `data/` (CSV).

Studies and the observation report write through this one class, so every report numprec makes
has the same layout. Prose is markdown-lite: paragraphs, `- ` lists, `code` and **bold**.
"""
from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from .files import markdown_table
from .style import save_all

CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
       "line-height:1.45;color:#222}table{border-collapse:collapse;margin:0.8rem 0;"
       "font-size:0.85rem}td,th{border:1px solid #ccc;padding:0.2rem 0.5rem;text-align:right}"
       "th{background:#f3f3f3}figure{margin:1.2rem 0}img{max-width:100%}"
       "figcaption{font-size:0.9rem;color:#444}code{background:#f3f3f3;padding:0 0.2rem}")


def _inline_html(text: str) -> str:
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def _prose_html(text: str) -> str:
    parts = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines = paragraph.splitlines()
        if lines and all(line.lstrip().startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline_html(line.lstrip()[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{_inline_html(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(parts)


def _table_html(frame, columns, headers, digits) -> str:
    from .files import cell
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell(v, digits))}</td>" for v in row)
                   + "</tr>" for row in frame[columns].itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


class Report:
    """A report being written into `folder` (an empty folder: atomic_folder gives one)."""

    def __init__(self, folder, title: str):
        self.folder = Path(folder)
        self.title = title
        self._blocks = []  # (markdown, html)
        (self.folder / "figures").mkdir(exist_ok=True)
        (self.folder / "data").mkdir(exist_ok=True)
        self.figures = []  # (stem, caption)

    def heading(self, text: str, level: int = 2) -> None:
        self._blocks.append((f"{'#' * level} {text}", f"<h{level}>{_inline_html(text)}</h{level}>"))

    def text(self, prose: str) -> None:
        self._blocks.append((prose.strip(), _prose_html(prose)))

    def data(self, frame, name: str) -> str:
        """Save a frame as data/name.csv (no block); returns its relative path."""
        frame.to_csv(self.folder / "data" / f"{name}.csv", index=False)
        return f"data/{name}.csv"

    def table(self, frame, name: str | None = None, columns=None, headers=None,
              digits: int = 4) -> None:
        """A table block (selected columns, renamed by headers); with a name, the whole frame
        also goes to data/name.csv."""
        columns = list(columns or frame.columns)
        headers = list(headers or columns)
        markdown = markdown_table(frame, columns, headers, digits)
        html_table = _table_html(frame, columns, headers, digits)
        if name is not None:
            path = self.data(frame, name)
            markdown += f"\n\n(data: [CSV]({path}))"
            html_table += f"<p>(data: {html.escape(path)})</p>"
        self._blocks.append((markdown, html_table))

    def figure(self, fig, stem: str, caption: str, data=None) -> None:
        """A figure block: PNG, SVG and PDF under figures/, its data (a frame) as
        data/stem.csv."""
        save_all(fig, self.folder / "figures" / stem)
        links = f"vector: [PDF](figures/{stem}.pdf), [SVG](figures/{stem}.svg)"
        if data is not None:
            self.data(data, stem)
            links += f"; data: [CSV](data/{stem}.csv)"
        self.figures.append((stem, caption))
        png = (self.folder / "figures" / f"{stem}.png").read_bytes()
        encoded = base64.b64encode(png).decode("ascii")
        e = html.escape
        self._blocks.append((
            f"![{caption}](figures/{stem}.png)\n\n*{caption}* ({links})",
            f"<figure id=\"{e(stem)}\"><img alt=\"{e(caption)}\" src=\"data:image/png;base64,"
            f"{encoded}\"><figcaption>{_inline_html(caption)} (figures/{e(stem)}.pdf, .svg"
            + (f"; data/{e(stem)}.csv" if data is not None else "") + ")</figcaption></figure>"))

    def write(self) -> Path:
        """Write report.md and report.html; returns the HTML's path."""
        markdown = [f"# {self.title}", ""]
        parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
                 f"<title>{html.escape(self.title)}</title>", f"<style>{CSS}</style></head>"
                 "<body>", f"<h1>{html.escape(self.title)}</h1>"]
        for md, html_block in self._blocks:
            markdown += [md, ""]
            parts.append(html_block)
        parts.append("</body></html>")
        (self.folder / "report.md").write_text("\n".join(markdown), encoding="utf-8")
        path = self.folder / "report.html"
        path.write_text("\n".join(parts) + "\n", encoding="utf-8")
        return path


__all__ = ["Report", "CSS"]
