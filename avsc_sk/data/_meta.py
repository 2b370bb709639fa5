"""Clip metadata from a table: labels, cross-validation groups and splits for clips of any name.

A meta table (``clips.csv``) is tab- or comma-separated (detected from its header) with the
columns ``clip_id`` and ``label`` and optionally ``group`` (the recording location that
cross-validation keeps together), ``city`` and ``split``. It replaces what TAU-shaped clip
names would otherwise tell.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ._clipname import stem_of
from ._cliptable import read_text_table

__all__ = ["META_COLUMNS", "read_meta", "apply_meta"]

#: The columns a meta table may hold; ``clip_id`` and ``label`` are required.
META_COLUMNS = ("clip_id", "label", "group", "city", "split")


def read_meta(path):
    """Read a meta table.

    Parameters
    ----------
    path : str or Path
        Tab- or comma-separated, header first (lines starting with ``#`` before it are skipped);
        read as an ``.npy`` folder's ``clips.csv`` is (:func:`~avsc_sk.data._cliptable.read_text_table`).

    Returns
    -------
    DataFrame
        String columns among :data:`META_COLUMNS`, indexed by clip id (a stem: ``audio/x.wav``
        becomes ``x``); ``attrs["source"]`` is the path.

    Raises
    ------
    DataError
        If the file is not such a table (not UTF-8, no header, a row of another field count),
        lacks ``clip_id`` or ``label``, has unknown columns,
        names a clip twice or leaves a label empty.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a directory; expected a meta table (clip_id, label[, group, city, split])")
    names, rows, _ = read_text_table(path)
    table = pd.DataFrame(rows, columns=names, dtype=str)
    missing = [c for c in ("clip_id", "label") if c not in table.columns]
    unknown = [c for c in table.columns if c not in META_COLUMNS]
    if missing or unknown:
        what = "; ".join([*([f"missing column(s) {', '.join(missing)}"] if missing else []),
                          *([f"unexpected column(s) {', '.join(unknown)}"] if unknown else [])])
        raise DataError(f"{path}: {what}; expected clip_id, label[, group, city, split] (tab- or comma-separated)")
    table = table.apply(lambda col: col.str.strip())
    table["clip_id"] = table["clip_id"].map(stem_of)
    dup = table["clip_id"][table["clip_id"].duplicated()]
    if len(dup):
        raise DataError(f"{path}: clip {dup.iloc[0]!r} appears more than once; give each clip one row")
    empty = table["clip_id"][table["label"] == ""]
    if len(empty):
        raise DataError(f"{path}: clip {empty.iloc[0]!r} has an empty label ({len(empty)} such row(s)); "
                        "label every clip")
    table = table.set_index("clip_id")
    table.attrs["source"] = str(path)
    return table


def apply_meta(data, meta, *, split=None):
    """``data`` with its labels, groups, cities (and clip selection) taken from a meta table.

    Parameters
    ----------
    data : FeatureSet
        The clips; each must have a row in ``meta`` (rows of other clips are ignored).
    meta : str, Path or DataFrame
        A meta table, or its path (see :func:`read_meta`).
    split : str, optional
        When ``meta`` has a ``split`` column, keep only the clips whose split is one of these
        (``train+val``: either); default ``data.split``.

    Returns
    -------
    FeatureSet
        Labels from ``label``; groups from ``group`` (without one, as ``data`` had them);
        cities from ``city`` (without one, ``group``'s part before the first ``-`` if there is
        a group column, else as ``data`` had them).

    Raises
    ------
    DataError
        If a clip of ``data`` has no row in ``meta``, or the split keeps no clip.
    """
    from ._featureset import FeatureSet

    if not isinstance(meta, pd.DataFrame):
        meta = read_meta(meta)
    source = meta.attrs.get("source", "the meta table")
    ids = pd.Index([str(c) for c in data.clip_ids])
    found = ids.isin(meta.index)
    if not found.all():
        lost = ids[~found]
        raise DataError(f"{source} has no row for {len(lost)} of the {len(ids)} clips of "
                        f"{data.source or 'the features'}, e.g. {lost[0]!r}; add a row (clip_id, label, ...) "
                        "for every clip")
    rows = meta.loc[ids]
    keep = np.ones(len(ids), dtype=bool)
    if "split" in rows.columns:
        wanted = str(split if split is not None else data.split).split("+")
        keep = rows["split"].isin(wanted).to_numpy()
        if not keep.any():
            raise DataError(f"{source}: no clip of {data.source or 'the features'} has split {'+'.join(wanted)} "
                            f"(its splits: {', '.join(sorted(set(rows['split'])))}); choose one of those with --split")
    group = rows["group"].to_numpy(dtype=object) if "group" in rows.columns else data.location
    if "city" in rows.columns:
        city = rows["city"].to_numpy(dtype=object)
    elif "group" in rows.columns:
        city = np.asarray([g.split("-", 1)[0] for g in group], dtype=object)
    else:
        city = data.city
    out = FeatureSet(data.X, data.modalities, data.clip_ids, rows["label"].to_numpy(dtype=object), city, group,
                     data.split if split is None else split, data.source, data.synthetic, data.stats,
                     media=data.media)
    out._digest = data._digest
    return out if keep.all() else out.subset(np.flatnonzero(keep))


def meta_splits(meta, present):
    """The splits a meta table gives the features, each with the stored splits its clips are read from.

    As commands read a split with ``--meta`` (:func:`avsc_sk._load.load_split`): with a
    ``split`` column the table names the splits, and one the features also store is read from
    there, any other from all of them; without one the splits are the stored ones.

    Parameters
    ----------
    meta : DataFrame
        A meta table (see :func:`read_meta`).
    present : list of str
        The splits the features store.

    Returns
    -------
    list of (str, str)
        ``(split, read)`` pairs, train, val and test first: pass ``read`` to
        :func:`~avsc_sk.data.read_features` and ``split`` to :func:`apply_meta`.
    """
    if "split" not in meta.columns:
        return [(s, s) for s in present]
    from ._detect import SPLITS

    names = sorted(set(meta["split"]), key=lambda s: (SPLITS.index(s) if s in SPLITS else len(SPLITS), s))
    return [(s, s if s in present else "+".join(present)) for s in names]
