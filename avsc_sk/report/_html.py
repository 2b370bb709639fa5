"""Render a report as Markdown and as one self-contained HTML page (every text escaped, plots inline)."""

import base64
import html

import numpy as np
import pandas as pd

__all__ = ["markdown_table", "html_table", "render_markdown", "render_html"]


def _fmt(value, digits=3):
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        # round first: -0.0002 prints 0.000, not -0.000
        return "" if np.isnan(value) else f"{round(float(value), digits) + 0.0:.{digits}f}"
    return str(value)


def _rows(df, digits):
    df = df.reset_index() if df.index.name is not None or not isinstance(df.index, pd.RangeIndex) else df
    header = [str(c) for c in df.columns]
    body = [[_fmt(v, digits) for v in row] for row in df.itertuples(index=False)]
    return header, body


def markdown_table(df, *, digits=3):
    """A DataFrame as a GitHub Markdown table (index first, floats with ``digits`` decimals)."""
    header, body = _rows(df, digits)

    def cell(s):
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def html_table(df, *, digits=3):
    """A DataFrame as an HTML table; every header and cell is escaped."""
    header, body = _rows(df, digits)
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead>",
           "<tbody>"]
    for row in body:
        out.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def render_markdown(sections, *, title, banner=None):
    """``sections``: list of ``(heading, blocks)``; a block is ``("text", str)``, ``("table", DataFrame)``,
    ``("code", str)`` or ``("image", (file_name, alt))``."""
    out = [f"# {title}\n"]
    if banner:
        out.append(f"> **{banner}**\n")
    for heading, blocks in sections:
        out.append(f"## {heading}\n")
        for kind, value in blocks:
            if kind == "text":
                out.append(value + "\n")
            elif kind == "table":
                out.append(markdown_table(value))
            elif kind == "code":
                out.append("```\n" + value.rstrip("\n") + "\n```\n")
            elif kind == "image":
                name, alt = value
                out.append(f"![{alt}]({name})\n")
    return "\n".join(out)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f0f0f0; }
.banner { background: #fff3cd; border: 2px solid #d39e00; padding: 0.7em 1em; font-weight: bold; }
pre { background: #f7f7f7; padding: 0.7em; overflow-x: auto; }
img { max-width: 100%; height: auto; }
"""


def render_html(sections, *, title, images, banner=None, scripts=()):
    """One self-contained page: CSS inline, PNGs as base64 data URLs, a CSP that forbids any fetch.

    ``images`` maps an image block's file name to its PNG bytes. ``scripts`` are inline scripts
    placed at the end of the page; the CSP admits exactly them, by their SHA-256 hashes, and no other.
    A ``("html", str)`` block is inserted as it is (its maker escapes what it holds).
    """
    from ._browser import script_hash

    script_src = "; script-src " + " ".join(script_hash(s) for s in scripts) if scripts else ""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" '
           f'content="default-src \'none\'; img-src data:; style-src \'unsafe-inline\'{script_src}">',
           f"<title>{html.escape(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{html.escape(title)}</h1>"]
    if banner:
        out.append(f'<p class="banner" id="synthetic-banner">{html.escape(banner)}</p>')
    for heading, blocks in sections:
        out.append(f"<h2>{html.escape(heading)}</h2>")
        for kind, value in blocks:
            if kind == "text":
                out.append(f"<p>{html.escape(value)}</p>")
            elif kind == "table":
                out.append(html_table(value))
            elif kind == "code":
                out.append(f"<pre>{html.escape(value)}</pre>")
            elif kind == "html":
                out.append(value)
            elif kind == "image":
                name, alt = value
                data = base64.b64encode(images[name]).decode("ascii")
                out.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
                           f"<figcaption>{html.escape(alt)}</figcaption></figure>")
    out += [f"<script>{s}</script>" for s in scripts]
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
