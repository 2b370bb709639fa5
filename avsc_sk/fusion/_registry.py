"""One builder for every fusion mode, so the CLI, compare and tune never assemble estimators themselves."""

from ..errors import ConfigError
from ._early import make_feature_pipeline

__all__ = ["FUSIONS", "make_estimator"]

#: Fusion modes; a modality name (``audio``, ``video``, or any other in the data) is a single-modality mode.
FUSIONS = ("audio", "video", "early")


def make_estimator(fusion, modalities, *, model="logreg", random_state=0):
    """An unfitted estimator for one fusion mode over features laid out as ``modalities``.

    Parameters
    ----------
    fusion : str
        A modality name (single-modality model) or one of :data:`FUSIONS`.
    modalities : sequence of (name, n_frames, dim)
        ``FeatureSet.modalities`` of the data it will be fitted on.
    model : str, default="logreg"
        The head (see :func:`avsc_sk.heads.make_head`).
    random_state : int or None, default=0

    Returns
    -------
    estimator : scikit-learn classifier
    """
    names = [m[0] for m in modalities]
    if fusion in names:
        return make_feature_pipeline(modalities, fusion, model=model, random_state=random_state)
    if fusion == "early":
        return make_feature_pipeline(modalities, model=model, random_state=random_state)
    if fusion in ("audio", "video"):
        raise ConfigError(f"--fusion {fusion}: the features hold no {fusion!r} modality; "
                          f"available: {', '.join(names)}")
    raise ConfigError(f"unknown fusion mode {fusion!r}; expected a modality ({', '.join(names)}) "
                      f"or one of {', '.join(f for f in FUSIONS if f not in ('audio', 'video'))}")
