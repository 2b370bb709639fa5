"""One builder for every fusion mode, so the CLI, compare and tune never assemble estimators themselves."""

from ..errors import ConfigError
from ._early import make_feature_pipeline, make_modality_pipeline, make_pooler
from ._intermediate import IntermediateFusionClassifier
from ._late import LateFusionClassifier
from ._weighted import WeightedFusionClassifier

__all__ = ["FUSIONS", "FUSION_MODES", "NETWORK", "make_estimator", "model_name"]

#: Fusion modes; a modality name (``audio``, ``video``, or any other in the data) is a single-modality mode.
FUSIONS = ("audio", "video", "early", "intermediate", "late", "weighted")

#: The modes that combine modalities (everything in FUSIONS but the single modalities).
FUSION_MODES = ("early", "intermediate", "late", "weighted")

#: What intermediate fusion records as its ``model``: it has no head, the network classifies.
NETWORK = "network"


def model_name(fusion, model=None):
    """The classifier a mode ends in, as outputs record it: the head (default logreg), or :data:`NETWORK`."""
    return NETWORK if fusion == "intermediate" else (model or "logreg")


def make_estimator(fusion, modalities, *, input_stats=None, model=None, random_state=0):
    """An unfitted estimator for one fusion mode over features laid out as ``modalities``.

    Parameters
    ----------
    fusion : str
        A modality name (single-modality model) or one of :data:`FUSIONS`.
    modalities : sequence of (name, n_frames, dim), or FeatureSet
        ``FeatureSet.modalities`` of the data it will be fitted on; any number of modalities.
        Given the FeatureSet itself, its ``modalities`` and ``stats`` (as ``input_stats``) are used.
    input_stats : tuple of str, optional
        ``FeatureSet.stats``: the statistics over frames X holds per modality, as
        ``read_features(..., stats=...)`` computed them while reading. The pipelines' pooling then
        selects among them (its ``stats`` stay tunable within those read). ``None``: X holds frames.
    model : str, optional
        The head (see :func:`avsc_sk.heads.make_head`) of the single-modality, early, late
        and weighted pipelines; ``None`` is ``"logreg"``. Intermediate fusion is a network of
        its own and takes none: any head, ``"logreg"`` included, is a ConfigError (``None``
        or :data:`NETWORK` are accepted).
    random_state : int or None, default=0

    Returns
    -------
    estimator : scikit-learn classifier
        Fit the late, weighted and intermediate ones with ``fit(X, y, groups=fs.groups)`` so
        their internal cross-validation / early stopping is grouped by recording location.
        Late and weighted fusion pool every modality once (``pooler``, a ColumnTransformer of
        FramePoolers) and fit one :func:`make_modality_pipeline` per modality on its pooled
        block; their parameters are ``audio__head__C``, ``audio__pca``, ``pooler__audio__stats``, ...
    """
    if hasattr(modalities, "modalities") and hasattr(modalities, "stats"):  # a FeatureSet
        modalities, input_stats = modalities.modalities, modalities.stats if input_stats is None else input_stats
    modalities = tuple((str(n), int(f), int(d)) for n, f, d in modalities)
    names = [m[0] for m in modalities]
    if fusion != "intermediate" and model is None:
        model = "logreg"
    if fusion in names:
        return make_feature_pipeline(modalities, fusion, input_stats=input_stats, model=model,
                                     random_state=random_state)
    if fusion == "early":
        return make_feature_pipeline(modalities, input_stats=input_stats, model=model, random_state=random_state)
    if fusion == "intermediate":
        if model not in (None, NETWORK):  # a head given here would be silently unused, and recorded
            raise ConfigError(f"model {model!r}: intermediate fusion is a network of its own and takes no head; "
                              "drop --model (or the config's model key), or use that head with --fusion early, "
                              "late or weighted")
        return IntermediateFusionClassifier(modalities=modalities, input_stats=input_stats, random_state=random_state)
    if fusion in ("late", "weighted"):
        estimators = [(name, make_modality_pipeline(model=model, random_state=random_state)) for name in names]
        cls = LateFusionClassifier if fusion == "late" else WeightedFusionClassifier
        return cls(estimators=estimators, pooler=make_pooler(modalities, input_stats=input_stats),
                   random_state=random_state)
    if fusion in ("audio", "video"):
        raise ConfigError(f"--fusion {fusion}: the features hold no {fusion!r} modality; "
                          f"available: {', '.join(names)}")
    raise ConfigError(f"unknown fusion mode {fusion!r}; expected a modality ({', '.join(names)}) "
                      f"or one of {', '.join(FUSION_MODES)}")
