"""What a feature path holds, from its metadata and shapes alone: the pre-flight check behind ``avsc-sk info``."""

import numpy as np

from ._detect import resolve_layout
from ._features import _PLANNERS, _check_max_frames, list_splits

__all__ = ["summarize_features"]


def summarize_features(path, *, max_frames=96):
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

    Returns
    -------
    sklearn.utils.Bunch
        ``path``, ``layout`` (``"native"``, ``"A"``, ``"B"`` or ``"npy"``), ``synthetic``,
        ``splits`` (split -> Bunch of ``n_clips``, ``n_groups``, ``labelled`` and
        ``modalities``, a tuple of ``(name, n_frames, dim)``) and ``classes``: a DataFrame,
        one row per class (sorted), columns ``(split, "clips")`` and ``(split, "groups")`` for
        each labelled split: clips of that class and distinct groups (recording locations)
        among them.
    """
    import pandas as pd
    from sklearn.utils import Bunch

    max_frames = _check_max_frames(max_frames)
    layout, location = resolve_layout(path)
    splits, columns, synthetic = {}, {}, False
    plans = [_PLANNERS[layout](location, s, max_frames=max_frames, allow_missing_modality=True)
             for s in list_splits(path)]
    for plan in plans:
        synthetic |= plan.synthetic
        splits[plan.split] = Bunch(n_clips=plan.n_clips, n_groups=len(set(plan.location.tolist())),
                                   labelled=plan.y is not None, modalities=plan.modalities)
        if plan.y is not None:
            frame = pd.DataFrame({"label": plan.y, "group": plan.location})
            counts = frame.groupby("label").agg(clips=("group", "size"), groups=("group", "nunique"))
            for stat in ("clips", "groups"):
                columns[(plan.split, stat)] = counts[stat]
    classes = pd.DataFrame(columns)
    if columns:
        classes = classes.fillna(0).astype(np.int64).sort_index()
        classes.columns = pd.MultiIndex.from_tuples(classes.columns, names=["split", "count"])
    classes.index.name = "class"
    return Bunch(path=str(path), layout=layout, synthetic=bool(synthetic), splits=splits, classes=classes)
