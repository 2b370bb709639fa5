"""Single-modality and early-fusion pipelines: pool and scale each modality, join, classify."""

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .._pooling import FramePooler
from ..errors import ConfigError
from ..heads import make_head
from ._missing import FeaturePipeline

__all__ = ["modality_columns", "make_modality_features", "make_feature_pipeline", "make_pooler",
           "make_modality_pipeline"]


def modality_columns(modalities, input_stats=None):
    """``{name: slice}``: the columns of each ``(name, n_frames, dim)`` block in X.

    A block spans ``n_frames * dim`` columns of frames, or ``len(input_stats) * dim`` when X
    holds statistics (``FeatureSet.stats``).
    """
    out, start = {}, 0
    for name, n_frames, dim in modalities:
        width = (n_frames if input_stats is None else len(input_stats)) * dim
        out[name] = slice(start, start + width)
        start += width
    return out


def make_modality_features(n_frames, input_stats=None):
    """Pool -> impute -> scale for one modality block.

    ``pool`` pools frames, or, with ``input_stats``, selects among the statistics read.

    The imputer is the documented missing-modality strategy of early fusion: a clip
    without this modality (NaN block) gets the training mean of each pooled feature,
    which after scaling is zero, i.e. "no evidence" from that modality.
    """
    return Pipeline([
        ("pool", FramePooler(n_frames=n_frames, input_stats=input_stats)),
        ("impute", SimpleImputer(strategy="mean", keep_empty_features=True)),
        ("scale", StandardScaler()),
    ])


def make_feature_pipeline(modalities, use=None, *, input_stats=None, model="logreg", random_state=0):
    """An unfitted single-modality or early-fusion Pipeline over a FeatureSet's X.

    ``features`` (a ColumnTransformer with one pool -> impute -> scale branch per
    modality in ``use``, concatenated: early fusion) -> ``pca`` (``"passthrough"`` until
    set, e.g. ``pca=PCA(256)``) -> ``head``.

    Parameters
    ----------
    modalities : sequence of (name, n_frames, dim)
        The layout of X (``FeatureSet.modalities``).
    use : sequence of str, optional
        The modalities to use; all by default. One name gives a single-modality pipeline.
    input_stats : tuple of str, optional
        The statistics X holds per modality (``FeatureSet.stats``); ``None``: X holds frames.
    model : str, default="logreg"
        A head name from :data:`avsc_sk.heads.HEADS`.
    random_state : int or None, default=0

    Returns
    -------
    FeaturePipeline
        A scikit-learn Pipeline whose parameters are addressed as usual, e.g.
        ``features__audio__pool__stats``, ``head__C``; a clip with none of ``use``'s modalities
        is left out of its fit and predicted as the training class prior.
    """
    cols = modality_columns(modalities, input_stats)
    frames = {name: n_frames for name, n_frames, _ in modalities}
    use = list(cols) if use is None else [use] if isinstance(use, str) else list(use)
    unknown = [u for u in use if u not in cols]
    if unknown:
        raise ConfigError(f"modality {unknown[0]!r} is not in the features; available: {', '.join(cols)}")
    features = ColumnTransformer(
        [(name, make_modality_features(frames[name], input_stats), cols[name]) for name in use],
        remainder="drop",
    )
    return FeaturePipeline([
        ("features", features),
        ("pca", "passthrough"),
        ("head", make_head(model, random_state=random_state)),
    ])


def make_pooler(modalities, use=None, *, stats=("mean",), input_stats=None):
    """Pool every modality's frames at once: the ``pooler`` of late and weighted fusion.

    A ColumnTransformer with one ``(name, FramePooler(n_frames, stats), raw_columns)`` per
    modality in ``use`` (all by default). Its output is each modality's pooled block side by
    side, at the columns ``output_indices_[name]`` once fitted. Parameters are addressed as
    ``<name>__stats`` (``pooler__audio__stats`` from a fusion estimator).

    Parameters
    ----------
    modalities : sequence of (name, n_frames, dim)
        The layout of X (``FeatureSet.modalities``).
    use : sequence of str, optional
        The modalities to pool; all by default.
    stats : tuple of str, default=("mean",)
        Pooling statistics of every modality (see :class:`~avsc_sk.FramePooler`).
    input_stats : tuple of str, optional
        The statistics X holds per modality (``FeatureSet.stats``); ``None``: X holds frames.

    Returns
    -------
    sklearn.compose.ColumnTransformer
    """
    cols = modality_columns(modalities, input_stats)
    frames = {name: n_frames for name, n_frames, _ in modalities}
    use = list(cols) if use is None else [use] if isinstance(use, str) else list(use)
    unknown = [u for u in use if u not in cols]
    if unknown:
        raise ConfigError(f"modality {unknown[0]!r} is not in the features; available: {', '.join(cols)}")
    return ColumnTransformer([(name, FramePooler(n_frames=frames[name], stats=tuple(stats), input_stats=input_stats),
                               cols[name]) for name in use], remainder="drop")


def make_modality_pipeline(*, model="logreg", random_state=0):
    """The estimator of one modality's pooled block in late and weighted fusion.

    ``impute`` (the training mean; a clip missing the modality during fit) -> ``scale`` ->
    ``pca`` (``"passthrough"`` until set) -> ``head``: a single-modality pipeline of
    :func:`make_feature_pipeline` without its pooling, which the fusion estimator's pooler does
    once for every modality. Addressed from the fusion estimator as ``audio__head__C``,
    ``audio__pca``, ...

    Parameters
    ----------
    model : str, default="logreg"
        A head name from :data:`avsc_sk.heads.HEADS`.
    random_state : int or None, default=0

    Returns
    -------
    FeaturePipeline
        A clip without this modality is left out of its fit and predicted as the training class prior.
    """
    return FeaturePipeline([
        ("impute", SimpleImputer(strategy="mean", keep_empty_features=True)),
        ("scale", StandardScaler()),
        ("pca", "passthrough"),
        ("head", make_head(model, random_state=random_state)),
    ])
