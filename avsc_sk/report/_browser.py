"""The conflict browser: the report page's table of every clip the single modalities disagree on.

Plain HTML plus one small inline script (sorting by any column, filtering by true scene and by
whether the fused verdict is right); no server, no network: the page's Content-Security-Policy
admits this script by its SHA-256 hash and nothing else (see :func:`script_hash`).
"""

import base64
import hashlib
import html
import os

import numpy as np

from ..evaluation import SET_COLUMN
from ._html import _fmt
from ._media import THUMBNAIL_WIDTH, media_href

__all__ = ["BROWSER_SCRIPT", "browser_html", "script_hash"]

#: Sorts the table by a clicked header (numbers as numbers) and filters its rows; counts what is shown.
BROWSER_SCRIPT = """
(function () {
  var table = document.getElementById("conflict-browser");
  if (!table) { return; }
  var body = table.tBodies[0];
  var scene = document.getElementById("cb-scene");
  var verdict = document.getElementById("cb-verdict");
  var count = document.getElementById("cb-count");
  var total = body.rows.length;
  function filter() {
    var shown = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var ok = (scene.value === "" || row.dataset.scene === scene.value) &&
               (verdict.value === "" || row.dataset.right === verdict.value);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + total + " clips shown";
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    th.style.cursor = "pointer";
    th.title = "sort by this column";
    th.addEventListener("click", function () {
      var up = th.dataset.dir !== "asc";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { delete h.dataset.dir; });
      th.dataset.dir = up ? "asc" : "desc";
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return up ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  scene.addEventListener("change", filter);
  verdict.addEventListener("change", filter);
  filter();
})();
"""


def script_hash(script):
    """The CSP source (``'sha256-...'``) that admits exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


_MEDIA_COLUMNS = ("audio_path", "video_path")


def _media_cell(path, thumbnail, missing, base):
    """A link to a media file, named by the file (what sorting compares), with its thumbnail when given."""
    if not path:
        return "<td></td>"
    img = f'<img src="{html.escape(thumbnail)}" alt="middle frame" width="{THUMBNAIL_WIDTH}"><br>' if thumbnail else ""
    name = html.escape(os.path.basename(path) + (" (missing)" if missing else ""))
    return f'<td><a href="{html.escape(media_href(path, base))}">{img}{name}</a></td>'


def browser_html(table, scenes, *, thumbnails=None, missing=(), base=None):
    """The browser's controls and table as HTML (every cell escaped); the script comes with the page.

    Parameters
    ----------
    table : DataFrame
        From :func:`avsc_sk.report.conflict_browser_table`, with ``audio_path`` and ``video_path``
        when :func:`avsc_sk.report.attach_media` added them: those cells link the files, by name.
    scenes : sequence of str
        The choices of the scene filter.
    thumbnails : mapping of str to str, optional
        Clip id to a ``data:image/png`` URI, shown in the row's video cell.
    missing : collection of str, default=()
        Paths whose links say ``(missing)``.
    base : path-like, optional
        The page's folder, which links are relative to (see :func:`avsc_sk.report.media_href`).
    """
    options = "".join(f'<option value="{html.escape(s)}">{html.escape(s)}</option>' for s in scenes)
    out = ['<p class="cb-controls">true scene <select id="cb-scene"><option value="">every scene</option>'
           f"{options}</select> fused verdict "
           '<select id="cb-verdict"><option value="">right or wrong</option><option value="yes">right</option>'
           '<option value="no">wrong</option></select> <span id="cb-count"></span></p>',
           '<table id="conflict-browser">',
           "<thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns) + "</tr></thead>",
           "<tbody>"]
    right = table["fused_right"] if "fused_right" in table else None
    thumbnails = thumbnails or {}

    def cell(column, value, aid):
        if column in _MEDIA_COLUMNS:
            return _media_cell(value, thumbnails.get(str(aid)) if column == "video_path" else None,
                               value in missing, base)
        text = ("yes" if value else "no") if isinstance(value, (bool, np.bool_)) else _fmt(value)
        if column == SET_COLUMN and not text:
            text = "(empty: no scene sure enough)"
        return f"<td>{html.escape(text)}</td>"

    for i, row in enumerate(table.itertuples(index=False)):
        attrs = f' data-scene="{html.escape(str(row.scene_label))}"'
        if right is not None:
            attrs += f' data-right="{"yes" if right.iloc[i] else "no"}"'
        cells = "".join(cell(c, v, row.aid) for c, v in zip(table.columns, row))
        out.append(f"<tr{attrs}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)
