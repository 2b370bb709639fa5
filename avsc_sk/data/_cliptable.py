"""The clip table: ids, labels, groups, cities and splits of clips of any name, from a CSV file or arrays.

Columns (all text): ``clip_id`` (required, each clip once), ``label`` (empty for every clip =
unlabelled), ``group`` (the cross-validation group), ``city`` (a coarser group; the groups when
``group`` is absent) and ``split`` (``train``, ``val``, ``test`` or an alias; absent = every clip
in ``train``). Other columns are ignored.
"""

import csv
import io
import zipfile
import zlib

import numpy as np

from ..errors import ConfigError, DataError
from ._detect import canonical_split

__all__ = ["TABLE_COLUMNS", "ZIP_ERRORS", "ClipTable", "read_text_table", "read_clip_csv", "clip_table_npz", "check_clip_table"]

#: The clip-table columns; in an ``.npz`` the arrays of these names are the table, not modalities.
TABLE_COLUMNS = ("clip_id", "label", "group", "city", "split")
#: What reading a damaged ``.npz`` member raises.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)


class ClipTable:
    """The clip table: column name -> object array of text, and where each row came from (for messages)."""

    def __init__(self, columns, source, line_of):
        self.columns, self.source, self.line_of = columns, source, line_of

    @property
    def n(self):
        return len(self.columns["clip_id"])


def read_text_table(path):
    """The header and rows of a comma- or tab-separated text table: the one reader of clip tables.

    Both the ``--meta`` table (:func:`avsc_sk.data.read_meta`) and an ``.npy`` folder's
    ``clips.csv`` are read here. The separator is a tab if the header line holds one, else a
    comma; blank lines, and lines starting with ``#`` before the header, are skipped; cells are
    stripped; CSV quoting applies; a UTF-8 byte-order mark is ignored.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    names : list of str
        The header's column names.
    rows : list of list of str
        One list of cells per row, as many as ``names``.
    lines : list of int
        The line number in the file of each row (for messages).

    Raises
    ------
    DataError
        If the file is not UTF-8 text, has no header, or a row's field count differs from the header's.
    """
    rows, lines = [], []  # the non-blank rows and their line numbers in the file
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    header = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if "\t" in header else ",")
    for row in reader:
        if not rows and row and row[0].startswith("#"):
            continue  # a comment line before the header
        if any(cell.strip() for cell in row):
            rows.append([cell.strip() for cell in row])
            lines.append(reader.line_num)
    if not rows:
        raise DataError(f"{path} is empty; write a header line with clip_id (and label, group, city, split) and one "
                        "line per clip")
    names = rows[0]
    for line, row in zip(lines[1:], rows[1:]):
        if len(row) != len(names):
            raise DataError(f"{path} line {line} has {len(row)} fields but the header has {len(names)}; "
                            "give every line one value per column")
    return names, rows[1:], lines[1:]


def read_clip_csv(path):
    """The clip table of a comma- or tab-separated file (the separator read from its header line)."""
    names, rows, lines = read_text_table(path)
    if "clip_id" not in names:
        raise DataError(f"{path} has no clip_id column (header: {', '.join(names)[:100]}); name the column of clip "
                        "ids clip_id (comma- or tab-separated)")
    columns = {name: np.array([row[k] for row in rows], dtype=object)
               for k, name in enumerate(names) if name in TABLE_COLUMNS}
    return ClipTable(columns, path, lambda i: f"{path} line {lines[i]}")


def clip_table_npz(path, members):
    """The clip table held as string arrays in an ``.npz`` file whose ``.npy`` members are ``members``."""
    if "clip_id" not in members:
        raise DataError(f"{path} holds no clip_id array; save the clip ids in it too, e.g. "
                        "np.savez(path, audio=audio, clip_id=np.asarray(ids, dtype=str), label=labels)")
    columns = {}
    with np.load(path, allow_pickle=False) as npz:
        for name in TABLE_COLUMNS:
            if name not in members:
                continue
            try:
                values = npz[name]
            except ValueError as exc:  # an object array needs pickle, which an untrusted file must not use
                if "pickle" in str(exc):
                    raise DataError(f"{path}: array {name!r} holds Python objects; save it as text, "
                                    f"{name}=np.asarray(values, dtype=str)") from None
                raise DataError(f"{path}: array {name!r} is not readable ({' '.join(str(exc).split())[:100]}); "
                                "save the file again with np.savez") from None
            except ZIP_ERRORS as exc:
                raise DataError(f"{path}: array {name!r} is damaged ({exc}); save the file again") from None
            if values.ndim != 1:
                raise DataError(f"{path}: array {name!r} has shape {values.shape}; expected (clips,)")
            columns[name] = np.array([str(v).strip() for v in values.tolist()], dtype=object)
    return ClipTable(columns, path, lambda i: f"{path} row {i}")


def check_clip_table(table):
    """``(clip_ids, labels, city, group, split)`` of every row, or a DataError naming the line and the fix.

    ``labels`` is None for an unlabelled table, ``city`` and ``group`` None when absent (``group``
    falls back to ``city``); ``split`` holds canonical names, ``train`` without a split column.
    """
    cols, where = table.columns, table.source
    n = table.n
    if n == 0:
        raise DataError(f"{where} lists no clips; add one line per clip")
    for name, values in cols.items():
        if len(values) != n:
            raise DataError(f"{where}: array {name!r} has {len(values)} entries for {n} clip ids; give one per clip")
    ids = cols["clip_id"]
    empty = np.flatnonzero(ids == "")
    if len(empty):
        raise DataError(f"{table.line_of(int(empty[0]))} has an empty clip_id; give every clip an id")
    first = {}
    for i, clip in enumerate(ids.tolist()):
        if clip in first:
            raise DataError(f"clip id {clip!r} appears twice in {where} ({table.line_of(first[clip])} and "
                            f"{table.line_of(i)}); each clip must appear once")
        first[clip] = i
    labels = cols.get("label")
    if labels is not None:
        unlabelled = labels == ""
        if unlabelled.all():
            labels = None
        elif unlabelled.any():
            i = int(np.flatnonzero(unlabelled)[0])
            raise DataError(f"{where} labels only some clips ({int(unlabelled.sum())} without a label, e.g. "
                            f"{table.line_of(i)}); label every clip or none")
    if "split" in cols:
        split = np.empty(n, dtype=object)
        for i, value in enumerate(cols["split"].tolist()):
            try:
                split[i] = canonical_split(value)
            except ConfigError:
                raise DataError(f"{table.line_of(i)}: split {value!r} is not train, val or test (aliases tr, tt, "
                                "evaluate); fix the split column") from None
    else:
        split = np.full(n, "train", dtype=object)
    city = cols.get("city")
    group = cols.get("group", city)
    for name, values in (("group", group), ("city", city)):
        if values is not None and (values == "").any():
            i = int(np.flatnonzero(values == "")[0])
            raise DataError(f"{table.line_of(i)} has an empty {name}; give every clip one, or drop the column")
    return ids, labels, city, group, split
