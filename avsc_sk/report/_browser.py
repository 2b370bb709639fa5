"""The conflict browser: the report page's table of every clip the single modalities disagree on.

Plain HTML plus one small inline script (sorting by any column, filtering by true scene and by
whether the fused verdict is right); no server, no network: the page's Content-Security-Policy
admits this script by its SHA-256 hash and nothing else (see :func:`script_hash`).
"""

import base64
import hashlib
import html

import numpy as np

from ._html import _fmt

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


def browser_html(table, scenes):
    """The browser's controls and table as HTML (every cell escaped); the script comes with the page.

    Parameters
    ----------
    table : DataFrame
        From :func:`avsc_sk.report.conflict_browser_table`.
    scenes : sequence of str
        The choices of the scene filter.
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
    for i, row in enumerate(table.itertuples(index=False)):
        attrs = f' data-scene="{html.escape(str(row.scene_label))}"'
        if right is not None:
            attrs += f' data-right="{"yes" if right.iloc[i] else "no"}"'
        cells = "".join(f"<td>{html.escape(_fmt(v) if not isinstance(v, (bool, np.bool_)) else ('yes' if v else 'no'))}</td>"
                        for v in row)
        out.append(f"<tr{attrs}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)
