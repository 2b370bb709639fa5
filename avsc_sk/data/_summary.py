"""What a feature path holds, from its metadata and shapes alone: the pre-flight check behind ``avsc-sk info``."""

import numpy as np

from ..errors import DataError
from ._detect import resolve_layout
from ._featureset import FeatureSet
from ._features import _PLANNERS, _check_max_frames, list_splits
from ._meta import apply_meta, meta_splits, read_meta

__all__ = ["summarize_features"]


def summarize_features(path, *, max_frames=96, meta=None):
    """Describe the features at ``path`` without reading their frames.

    Only what reading plans first is touched: the clip index, labels, groups and array
    shapes, so describing a multi-gigabyte native file takes a moment. The modalities are
    given as :func:`read_features` would read them with this ``max_frames``, so a layout
    problem that reading would meet (a clip too short, a missing split table) is met here.

    Parameters
    ----------
    path : str or path-like
        Features in any layout (see :func:`read_features`).
    max_frames : int or None, default=96
        Frames kept per clip, as for :func:`read_features`.
    meta : str, path-like or DataFrame, optional
        A meta table (see :func:`read_meta`) whose labels, groups and splits replace the
        features' own, as the commands taking ``--meta`` apply them.

    Returns
    -------
    sklearn.utils.Bunch
        ``path``, ``layout`` (``"native"``, ``"A"``, ``"B"`` or ``"npy"``), ``meta`` (its
        path, or None), ``synthetic``, ``splits`` (split -> Bunch of ``n_clips``,
        ``n_groups``, ``labelled``, ``modalities``, a tuple of ``(name, n_frames, dim)``, and
        ``clips_per_modality``, ``{name: clips holding it}``, or ``None`` for layouts whose
        missing clips only reading the frames finds: native and npy arrays store them as NaN)
        and ``classes``: a DataFrame, one row per class (sorted), columns ``(split, "clips")``
        and ``(split, "groups")`` for each labelled split: clips of that class and distinct
        groups (recording locations) among them.

    Raises
    ------
    DataError
        Also when ``meta`` has no row for a clip the features hold, as reading with it would.
    """
    import pandas as pd
    from sklearn.utils import Bunch

    max_frames = _check_max_frames(max_frames)
    layout, location = resolve_layout(path)
    plans = {s: _PLANNERS[layout](location, s, max_frames=max_frames, allow_missing_modality=True)
             for s in list_splits(path)}
    if meta is None:
        views = [(p.modalities, _clips(path, [p]), _present([p])) for p in plans.values()]
    else:
        table = meta if isinstance(meta, pd.DataFrame) else read_meta(meta)
        meta = table.attrs.get("source", "a meta table")
        views = []
        for split, read in meta_splits(table, list(plans)):
            chosen = [plans[s] for s in read.split("+")]
            views.append((_modalities(chosen, path), apply_meta(_clips(path, chosen), table, split=split),
                          _present(chosen)))
    splits, columns = {}, {}
    for mods, fs, present in views:
        splits[fs.split] = Bunch(n_clips=fs.n_clips, n_groups=len(set(fs.location.tolist())),
                                 labelled=fs.y is not None, modalities=mods, clips_per_modality=present)
        if fs.y is not None:
            frame = pd.DataFrame({"label": fs.y, "group": fs.location})
            counts = frame.groupby("label").agg(clips=("group", "size"), groups=("group", "nunique"))
            for stat in ("clips", "groups"):
                columns[(fs.split, stat)] = counts[stat]
    classes = pd.DataFrame(columns)
    if columns:
        classes = classes.fillna(0).astype(np.int64).sort_index()
        classes.columns = pd.MultiIndex.from_tuples(classes.columns, names=["split", "count"])
    classes.index.name = "class"
    return Bunch(path=str(path), layout=layout, meta=None if meta is None else str(meta),
                 synthetic=any(p.synthetic for p in plans.values()), splits=splits, classes=classes)


def _present(plans):
    """Clips per modality summed over ``plans``, or ``None`` when a plan cannot tell without reading."""
    counts = [p.clips_per_modality() for p in plans]
    if any(c is None for c in counts):
        return None
    return {name: sum(c[name] for c in counts) for name, _, _ in plans[0].modalities}


def _clips(path, plans):
    """The clips of ``plans`` as a FeatureSet without values: what :func:`apply_meta` needs."""
    def cat(attr):
        return np.concatenate([getattr(p, attr) for p in plans])

    y = cat("y") if all(p.y is not None for p in plans) else None
    return FeatureSet(np.empty((sum(p.n_clips for p in plans), 0), dtype=np.float32), (), cat("clip_ids"), y,
                      cat("city"), cat("location"), split="+".join(p.split for p in plans), source=str(path))


def _modalities(plans, path):
    # Reading several stored splits together needs them to agree, as read_features does.
    for p in plans[1:]:
        if p.modalities != plans[0].modalities:
            raise DataError(f"splits {plans[0].split!r} and {p.split!r} of {path} hold different modalities "
                            f"({plans[0].modalities} vs {p.modalities}); read them separately or pass "
                            "max_frames to match them")
    return plans[0].modalities
