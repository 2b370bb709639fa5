"""Prediction files in the reference format, and the label files they are scored against.

The format is the one both reference systems wrote (``prediction.csv``): tab-separated,
columns ``aid, scene_pred[, scene_label]`` then one probability column per class of the run
(for TAU data ``airport, ..., tram``), printed ``%.3f`` (``decimals`` of :func:`write_prediction`
changes that). Provenance (model, features) lives in the run manifest, not in this file, so that
the reference scoring scripts read our files unchanged; predictions of synthetic data carry one
more column, ``data`` = ``synthetic``, after the probabilities, where readers that take columns
by name or by position both pass it by. Conformal prediction sets (``predict --coverage``) take the
very last column, ``prediction_set``: the scenes of each clip's set joined by ``|``, most probable first.
"""

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_path
from ..data import stem_of
from ..errors import ConfigError, DataError
from ._conformal import parse_sets

__all__ = ["prediction_frame", "write_prediction", "read_prediction", "read_labels", "attach_labels",
           "proba_of", "classes_of", "PREDICTION_COLUMNS", "DATA_COLUMN", "SET_COLUMN"]

#: The columns a prediction file starts with (``scene_label`` is optional); one column per class follows.
PREDICTION_COLUMNS = ("aid", "scene_pred", "scene_label")
#: The last column of a prediction file made from synthetic data; its value is ``synthetic``.
DATA_COLUMN = "data"
#: The very last column of a prediction file with conformal prediction sets: scenes joined by ``|``.
SET_COLUMN = "prediction_set"
_EXTRA = (DATA_COLUMN, SET_COLUMN)


def prediction_frame(clip_ids, proba, classes, y_true=None):
    """Build a prediction frame from class probabilities.

    Parameters
    ----------
    clip_ids : array-like of str
        Clip stems (``aid``).
    proba : array-like of shape (n_clips, n_classes)
        Class probabilities, columns in the order of ``classes``.
    classes : sequence of str
        Class names of the columns of ``proba`` (e.g. a classifier's ``classes_``), any
        strings other than the fixed column names.
    y_true : array-like of str, optional
        True labels; adds the ``scene_label`` column. They may name classes outside
        ``classes`` (the model never saw them: scoring counts them probability 0).

    Returns
    -------
    DataFrame
        Columns ``aid, scene_pred, [scene_label,]`` then one per class, in the order of
        ``classes``; ``scene_pred`` is the class of highest probability (first one on ties,
        as ``numpy.argmax``).
    """
    clip_ids = [str(c) for c in clip_ids]
    proba = np.asarray(proba, dtype=np.float64)
    classes = [str(c) for c in classes]
    if proba.ndim != 2 or proba.shape != (len(clip_ids), len(classes)):
        raise DataError(f"probabilities of shape {proba.shape} do not match {len(clip_ids)} clips x "
                        f"{len(classes)} classes; pass predict_proba output with its classes_")
    _check_classes(classes, "classes")
    frame = {"aid": clip_ids}
    if len(clip_ids):
        frame["scene_pred"] = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    else:
        frame["scene_pred"] = np.asarray([], dtype=object)
    if y_true is not None:
        y_true = [str(y) for y in y_true]
        if len(y_true) != len(clip_ids):
            raise DataError(f"y_true has {len(y_true)} labels for {len(clip_ids)} clips")
        frame["scene_label"] = y_true
    for k, name in enumerate(classes):
        frame[name] = proba[:, k]
    out = pd.DataFrame(frame)
    for col in ("aid", "scene_pred", "scene_label"):
        if col in out:
            out[col] = out[col].astype(object)
    return out


def write_prediction(path, frame, *, force=False, header_comment=None, synthetic=None, decimals=3):
    """Write a prediction frame in the reference ``prediction.csv`` format (atomically).

    Parameters
    ----------
    path : str or Path
        Output file; an existing one is replaced only with ``force``.
    frame : DataFrame
        A prediction frame (see :func:`prediction_frame`).
    force : bool, default=False
        Replace an existing file.
    header_comment : str, optional
        Lines written first, each prefixed with ``# ``. Off by default because the
        reference scoring scripts do not skip comments; :func:`read_prediction` does.
    synthetic : bool, optional
        Append the column ``data`` = ``synthetic`` after the probabilities; by default when
        ``frame.attrs["synthetic"]`` is true.
    decimals : int, default=3
        Decimals of the printed probabilities: 3 is the reference format (its log loss is
        ``log_loss_ref3``); more keep the exact log loss within rounding of the model's.

    Returns
    -------
    Path
    """
    missing = [c for c in ("aid", "scene_pred") if c not in frame.columns]
    if missing:
        raise DataError(f"prediction frame lacks column(s) {', '.join(missing)}; build it with prediction_frame()")
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)) or not 1 <= decimals <= 17:
        raise ConfigError(f"decimals={decimals!r}: expected a whole number of decimals from 1 to 17 "
                          "(3 is the reference format)")
    cols = [c for c in PREDICTION_COLUMNS if c in frame.columns] + classes_of(frame)
    buf = io.StringIO()
    if header_comment:
        for line in str(header_comment).splitlines():
            buf.write(f"# {line}\n")
    out = frame[cols]
    if frame.attrs.get("synthetic") if synthetic is None else synthetic:
        out = out.assign(**{DATA_COLUMN: "synthetic"})
    if SET_COLUMN in frame.columns:
        out = out.assign(**{SET_COLUMN: frame[SET_COLUMN].to_numpy(dtype=object)})
    out.to_csv(buf, sep="\t", index=False, float_format=f"%.{int(decimals)}f", lineterminator="\n")
    with atomic_path(path, force=force) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
    return Path(path)


def _read_text(path, what):
    if Path(path).is_dir():
        raise DataError(f"{path} is a directory; expected a tab-separated {what} file, check the path")
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not a UTF-8 text file (byte {exc.start} is 0x{exc.object[exc.start]:02x}); "
                        f"expected a tab-separated {what}, check the path") from None


def _read_table(path, what, expected, keys):
    """Read a tab-separated table as strings, skipping leading ``#`` lines; detect other separators.

    ``expected`` is the header the format starts with (e.g. ``aid scene_pred ...``), as the
    message shows it; a first line holding none of the column names ``keys`` is not that kind
    of file at all (e.g. a README), whatever its separator.
    """
    path = Path(path)
    text = _read_text(path, what)
    lines = text.splitlines()
    skip = 0
    while skip < len(lines) and (lines[skip].startswith("#") or not lines[skip].strip()):
        skip += 1
    if skip >= len(lines):
        raise DataError(f"{path} is empty; expected a tab-separated {what} with a header line")
    header = lines[skip]
    names = set(re.split(r"[\t,; ]+", header.strip()))
    if not set(keys) & names:
        raise DataError(f"{path} is not a {what}: its first line is {header.strip()[:40]!r}, expected the "
                        f"tab-separated header {expected!r}; check the path")
    if "\t" not in header:
        for sep, name in ((",", "comma"), (";", "semicolon"), (" ", "space")):
            if sep in header.strip():
                raise DataError(
                    f"{path} looks {name}-separated (header {header[:60]!r}); the {what} format is "
                    f"tab-separated: re-save it with tabs (pandas: to_csv(sep='\\t'))")
    try:
        table = pd.read_csv(io.StringIO("\n".join(lines[skip:])), sep="\t", dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise DataError(f"{path} is not a valid tab-separated {what}: {str(exc).splitlines()[0]}") from None
    table.columns = [str(c).strip() for c in table.columns]
    return table


def _check_classes(classes, where):
    fixed = sorted(set(classes) & {*PREDICTION_COLUMNS, *_EXTRA, ""})
    if fixed:
        raise DataError(f"{where}: class name {fixed[0]!r} is a fixed column of prediction files; rename that class")
    if len(set(classes)) != len(classes):
        raise DataError(f"duplicate class names in {list(classes)}; each class must appear once")
    if not classes:
        raise DataError(f"{where}: no class columns; expected one probability column per class")


def _check_labels(values, path, column, classes=None):
    bad = ([v for v in values if v == ""] and [""]) or \
        (sorted(set(values) - set(classes)) if classes is not None else [])
    if bad:
        expected = "a label in every row" if bad == [""] else f"one of the class columns {', '.join(classes)}"
        raise DataError(
            f"{path}: column {column} holds {'an empty label' if bad == [''] else f'unknown class {bad[0]!r}'}"
            f"{f' (and {len(bad) - 1} more)' if len(bad) > 1 else ''}; expected {expected}"
        )


def read_prediction(path):
    """Read and validate a prediction file in the reference format.

    Parameters
    ----------
    path : str or Path
        A tab-separated ``prediction.csv`` (leading ``#`` comment lines are skipped).

    Returns
    -------
    DataFrame
        A prediction frame: ``aid, scene_pred, [scene_label,]`` then one float64
        probability column per class, in the file's order; ``attrs["source"]`` is the path,
        ``attrs["synthetic"]`` is true when its ``data`` column says ``synthetic``,
        ``attrs["decimals"]`` the most decimals a probability is printed with (``None`` if
        some use an exponent).

    Raises
    ------
    DataError
        For a wrong separator, missing columns, duplicate clips, predictions outside the
        class columns, or probabilities that are not numbers in [0, 1].
    """
    path = Path(path)
    table = _read_table(path, "prediction file", "aid scene_pred [scene_label] <one column per class>",
                        ("aid", "scene_pred", "scene_label"))
    cols = list(table.columns)
    classes = [c for c in cols if c not in (*PREDICTION_COLUMNS, *_EXTRA)]
    missing = [c for c in ("aid", "scene_pred") if c not in cols]
    if missing or not classes:
        detail = f"missing column(s) {', '.join(missing)}" if missing else "no class columns"
        raise DataError(f"{path}: {detail}; expected aid, scene_pred, [scene_label,] then one probability column "
                        "per class (e.g. airport ... tram)[, data]")
    if len(set(cols)) != len(cols):
        raise DataError(f"{path}: duplicate column names; each column must appear once")
    if table.empty:
        raise DataError(f"{path} holds a header but no predictions; expected one row per clip")
    aids = table["aid"].map(lambda a: stem_of(a.strip()))
    dup = aids[aids.duplicated()]
    if len(dup):
        raise DataError(f"{path}: clip {dup.iloc[0]!r} appears more than once; each clip must have one row")
    out = {"aid": aids.to_numpy(dtype=object)}
    for col in ("scene_pred", "scene_label"):
        if col in table:
            values = table[col].str.strip()
            _check_labels(values.tolist(), path, col, classes if col == "scene_pred" else None)
            out[col] = values.to_numpy(dtype=object)
    for scene in classes:
        values = pd.to_numeric(table[scene].str.strip(), errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values) | (values < 0) | (values > 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{path}: probability {table[scene].iloc[i]!r} for {scene} of clip {aids.iloc[i]!r} "
                            "is not a number in [0, 1]; write predict_proba output, not scores or logits")
        out[scene] = values
    frame = pd.DataFrame(out)
    frame.attrs["source"] = str(path)
    frame.attrs["decimals"] = _decimals(table[classes])
    if DATA_COLUMN in table:
        kinds = set(table[DATA_COLUMN].str.strip())
        if not kinds <= {"synthetic", "real"}:
            raise DataError(f"{path}: column {DATA_COLUMN} holds {sorted(kinds - {'synthetic', 'real'})[0]!r}; "
                            "expected 'synthetic' (predictions of avsc-sk's built-in data) or 'real'")
        frame.attrs["synthetic"] = "synthetic" in kinds
    if SET_COLUMN in table:
        sets = table[SET_COLUMN].str.strip()
        members = {c for scenes in parse_sets(sets) for c in scenes}  # "": an empty set
        bad = sorted(members - set(classes))
        if bad:
            raise DataError(f"{path}: column {SET_COLUMN} names {bad[0]!r}, which is not a class column; expected "
                            "scenes joined by '|', or nothing for an empty set (avsc-sk predict --coverage "
                            "writes them)")
        frame[SET_COLUMN] = sets.to_numpy(dtype=object)
    return frame


def _decimals(table):
    """The most digits after the point among the printed probabilities; None when some use an exponent."""
    text = table.stack().str.strip()
    if text.str.contains("[eE]").any():
        return None
    return int(text.str.partition(".")[2].str.len().max())


def read_labels(path):
    """Read true labels from a ``fold1_evaluate.csv``-style file, a meta table or a prediction file.

    Parameters
    ----------
    path : str or Path
        Tab-separated with ``filename_audio`` and ``scene_label`` columns (the dataset's
        ``evaluation_setup`` files and ``meta.csv``), or with ``aid`` and ``scene_label``
        (a prediction file); the comma-separated ``official_split`` files also work, and so
        does a meta table (``clip_id, label, ...``, see :func:`avsc_sk.data.read_meta`).

    Returns
    -------
    Series
        ``scene_label`` indexed by clip stem (index name ``aid``).
    """
    path = Path(path)
    first = next((ln for ln in _read_text(path, "label file").splitlines() if not ln.startswith("#")), "")
    if "clip_id" in re.split(r"[\t,]", first):
        from ..data import read_meta

        meta = read_meta(path)
        series = pd.Series(meta["label"].to_numpy(dtype=object), index=pd.Index(meta.index.to_numpy(dtype=object),
                           name="aid"), name="scene_label")
        series.attrs["source"] = str(path)
        return series
    if "\t" not in first and "," in first and "filename_audio" in first:
        table = pd.read_csv(path, sep=",", dtype=str, keep_default_na=False)  # official_split/*.csv
        table.columns = [c.strip() for c in table.columns]
    else:
        table = _read_table(path, "label file", "filename_audio filename_video scene_label", ("filename_audio", "filename_video", "scene_label", "aid"))
    if "scene_label" not in table.columns:
        raise DataError(f"{path} has no scene_label column (columns: {', '.join(table.columns)}); "
                        "pass a labelled list such as fold1_evaluate.csv, not fold1_test.csv")
    key = "filename_audio" if "filename_audio" in table.columns else "aid" if "aid" in table.columns else None
    if key is None:
        raise DataError(f"{path} has neither filename_audio nor aid column; expected fold1_evaluate.csv "
                        "(filename_audio, filename_video, scene_label) or a prediction file")
    aids = table[key].map(lambda a: stem_of(a.strip()))
    labels = table["scene_label"].str.strip()
    _check_labels(labels.tolist(), path, "scene_label")
    if aids.duplicated().any():
        raise DataError(f"{path}: clip {aids[aids.duplicated()].iloc[0]!r} appears more than once")
    series = pd.Series(labels.to_numpy(dtype=object), index=pd.Index(aids.to_numpy(dtype=object), name="aid"),
                       name="scene_label")
    series.attrs["source"] = str(path)
    return series


def attach_labels(frame, labels):
    """Return ``frame`` with its ``scene_label`` column taken from ``labels`` (looked up by ``aid``).

    Every clip of the prediction must have a label; labels of clips that were not
    predicted are ignored, as in the reference scoring script.
    """
    src = getattr(labels, "attrs", {}).get("source", "the label file")  # pd.Series() below drops attrs
    labels = pd.Series(labels)
    found = frame["aid"].map(labels)
    if found.isna().any():
        lost = frame["aid"][found.isna()]
        raise DataError(f"{len(lost)} of {len(frame)} predicted clips have no label in {src}, e.g. "
                        f"{lost.iloc[0]!r}; score against the list the clips came from (fold1_evaluate.csv)")
    out = frame.copy()
    values = found.to_numpy(dtype=object)
    if "scene_label" in out:
        out["scene_label"] = values
    else:
        out.insert(2, "scene_label", values)
    out.attrs.update(frame.attrs)
    return out


def classes_of(frame):
    """The class columns of a prediction frame, in order: every column but the fixed ones."""
    return [c for c in frame.columns if c not in (*PREDICTION_COLUMNS, *_EXTRA)]


def proba_of(frame):
    """The ``(n_clips, n_classes)`` probability array of a prediction frame, columns as :func:`classes_of`."""
    return frame[classes_of(frame)].to_numpy(dtype=np.float64)
