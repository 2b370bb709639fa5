"""The one entry point commands use to get a split: a feature file, or the built-in synthetic data."""

__all__ = ["load_split", "BUILTIN"]

#: How manifests and reports name the built-in data.
BUILTIN = "built-in synthetic TAU-like data (avsc_sk.datasets.make_tau_like)"


def load_split(features=None, split="train+val", *, max_frames=96, allow_missing_modality=False, stats=None):
    """Read ``split`` from ``features`` (any supported layout), or from the built-in data when ``None``.

    Parameters
    ----------
    features : str or Path, optional
        A native file, a layout-A root or a layout-B root (see :func:`avsc_sk.data.read_features`).
    split : str, default="train+val"
        ``train``, ``val``, ``test``, or several joined by ``+``.
    max_frames : int or None, default=96
    allow_missing_modality : bool, default=False
    stats : tuple of str, optional
        Statistics over frames to keep instead of the frames (see :func:`avsc_sk.data.read_features`);
        :func:`avsc_sk.runs.read_stats` gives those a configuration needs.

    Returns
    -------
    FeatureSet
    """
    if max_frames == 0:  # the command line's "keep every frame"
        max_frames = None
    if features is None:
        from .datasets import load_tau_like

        return load_tau_like(split, stats=stats)
    from .data import read_features

    return read_features(features, split, max_frames=max_frames, allow_missing_modality=allow_missing_modality,
                         stats=stats)
