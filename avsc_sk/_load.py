"""The one entry point commands use to get a split: a feature file, or the built-in synthetic data."""

__all__ = ["load_split", "training_split", "available_splits", "BUILTIN"]

#: How manifests and reports name the built-in data.
BUILTIN = "built-in synthetic TAU-like data (avsc_sk.datasets.make_tau_like)"


def load_split(features=None, split="train+val", *, max_frames=96, allow_missing_modality=False, stats=None,
               meta=None):
    """Read ``split`` from ``features`` (any supported layout), or from the built-in data when ``None``.

    Parameters
    ----------
    features : str or Path, optional
        A native file, a layout-A root or a layout-B root (see :func:`avsc_sk.data.read_features`).
    split : str, default="train+val"
        ``train``, ``val``, ``test``, or several joined by ``+``.
    max_frames : int or None, default=96
        Keep each clip's first ``max_frames`` frames; ``0`` or ``None`` keeps all. The built-in
        data have 10 frames a clip, so only a smaller value changes them.
    allow_missing_modality : bool, default=False
    stats : tuple of str, optional
        Statistics over frames to keep instead of the frames (see :func:`avsc_sk.data.read_features`);
        :func:`avsc_sk.runs.read_stats` gives those a configuration needs.
    meta : str or Path, optional
        A meta table (``clip_id, label[, group, city, split]``, see :func:`avsc_sk.data.read_meta`)
        whose labels and groups replace what the clip names or the file say. With a ``split``
        column it also decides the splits: ``split`` selects the table's clips, read from
        whichever splits of ``features`` hold them.

    Returns
    -------
    FeatureSet
    """
    if max_frames == 0:  # the command line's "keep every frame"
        max_frames = None
    if meta is not None:
        from .data import apply_meta, read_meta

        table = read_meta(meta)
        read = split
        if "split" in table.columns and features is not None:
            from .data import list_splits

            present = list_splits(features)
            if not all(s in present for s in split.split("+")):
                read = "+".join(present)  # the table, not the file, says which clips form the split
        data = load_split(features, read, max_frames=max_frames, allow_missing_modality=allow_missing_modality,
                          stats=stats)
        return apply_meta(data, table, split=split)
    if features is None:
        from .datasets import load_tau_like

        if max_frames and max_frames < 10:  # the built-in data have 10 frames a clip
            data = _first_frames(load_tau_like(split), max_frames)
            return data if stats is None else data.pool(stats)
        return load_tau_like(split, stats=stats)
    from .data import read_features

    return read_features(features, split, max_frames=max_frames, allow_missing_modality=allow_missing_modality,
                         stats=stats)


def _first_frames(data, max_frames):
    """``data`` with every clip cut to its first ``max_frames`` frames (unchanged when it has no more)."""
    if not max_frames or all(f <= max_frames for _, f, _ in data.modalities):
        return data
    import numpy as np

    from .data import FeatureSet

    mods = [(n, min(f, max_frames), d) for n, f, d in data.modalities]
    X = np.hstack([data.frames(n)[:, :f].reshape(data.n_clips, f * d) for n, f, d in mods])
    return FeatureSet(np.ascontiguousarray(X), mods, data.clip_ids, data.y, data.city, data.location,
                      data.split, data.source, data.synthetic, classes=data.classes)


def available_splits(features=None, meta=None):
    """The splits ``load_split`` can read: those of a meta table's ``split`` column, else those of ``features``."""
    if meta is not None:
        from .data import read_meta

        table = read_meta(meta)
        if "split" in table.columns:
            return sorted(set(table["split"]))
    if features is None:
        return ["train", "val", "test"]
    from .data import list_splits

    return list_splits(features)


def training_split(features=None, meta=None):
    """The default training split: ``train+val``, or those of the two that ``features`` holds.

    A layout-A root often has only ``train`` and ``test``; training on what is there beats
    stopping on the missing ``val``.

    Returns
    -------
    split : str
        E.g. ``"train+val"`` or ``"train"``.
    note : str or None
        One line saying which split was chosen and why, when it is not ``train+val``.
    """
    if features is None and meta is None:
        return "train+val", None
    present = [s for s in ("train", "val") if s in available_splits(features, meta)]
    if len(present) in (0, 2):
        return "train+val", None  # none: reading train+val names what is missing
    missing = ({"train", "val"} - set(present)).pop()
    where = features if meta is None else meta
    return present[0], f"training on split {present[0]} ({where} has no {missing!r} split)"
