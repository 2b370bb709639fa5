"""Building an estimator from a configuration, and fitting it on a FeatureSet."""

from sklearn.pipeline import Pipeline

from .._config import build_params, check_param_keys
from .._pooling import SegmentClassifier, segment_modalities
from .._sklearn_private import InvalidParameterError
from ..data import POOLING_STATS, check_stat_names, stat_names
from ..errors import ConfigError, DataError
from ..fusion import make_estimator
from ..heads import fit_with_groups
from ..model_selection import set_cv_groups


def read_stats(config, grid=None):
    """The statistics over frames to compute while reading data for ``config`` (and a tuning ``grid``).

    Every pooling statistic the configuration (or any candidate of the grid) may ask for, in
    canonical order, so one read serves them all; ``None`` for segment mode, which needs frames.

    Parameters
    ----------
    config : dict
        A configuration from :func:`avsc_sk._config.load_config`.
    grid : dict or list of dict, optional
        A parameter grid (``param -> list of values``) whose values may name more statistics.

    Returns
    -------
    tuple of str or None
    """
    if config.get("segment_frames") or 0:
        return None
    wanted = {"mean"}  # FramePooler's default

    def take(key, value):
        leaf = key.rpartition("__")[2]
        if leaf == "stats":
            wanted.update([value] if isinstance(value, str) else value)
        elif leaf == "quantiles":
            wanted.update(stat_names((), value))

    for key, value in (config.get("params") or {}).items():
        take(key, value)
    for part in [grid] if isinstance(grid, dict) else (grid or []):
        for key, values in part.items():
            for value in values:
                take(key, value)
    def order(name):  # canonical order, quantiles last by value
        return (POOLING_STATS.index(name), 0.0) if name in POOLING_STATS else (len(POOLING_STATS), float(name[1:]))

    return tuple(sorted(check_stat_names(sorted(wanted, key=str), what="params"), key=order))


def build_estimator(config, modalities, *, input_stats=None, teacher=None):
    """The unfitted estimator a configuration describes, for data laid out as ``modalities``.

    ``input_stats`` is ``FeatureSet.stats`` of that data: the statistics read per modality
    (``None``: frames, which segment mode needs). ``teacher`` (the fitted model of the run
    ``config["teacher"]`` names) makes the single-modality estimator the student of a
    :class:`~avsc_sk.fusion.DistilledClassifier` (``config["distill_alpha"]``: its ``alpha``).
    """
    seed = config.get("seed", 0)
    segment = config.get("segment_frames") or 0
    if segment < 0:
        raise ConfigError(f"segment_frames = {segment}: expected 0 (whole clips) or a positive frame count, "
                          "e.g. --segment-frames 10")
    if segment and input_stats is not None:
        raise ConfigError(f"segment_frames = {segment} needs frames, but the features hold the statistics "
                          f"{list(input_stats)}; read them with stats=None")
    layout = segment_modalities(modalities, segment) if segment else modalities
    if "auto" in (config["fusion"], config.get("model")):
        if teacher is not None or config.get("teacher") is not None:
            raise ConfigError(f"--teacher with fusion {config['fusion']!r} and model {config.get('model')!r}: a "
                              "student is one modality with a fixed head; use e.g. --fusion video --model logreg "
                              "--teacher RUN")
        return _auto_estimator(config, layout, segment, input_stats)
    estimator = make_estimator(config["fusion"], layout, input_stats=input_stats, model=config.get("model"),
                               random_state=seed)
    params = build_params(config.get("params", {}))
    check_param_keys(estimator, params)
    _check_steps(estimator, params)
    estimator.set_params(**params)
    _validate_params(estimator, params)
    if teacher is not None or config.get("teacher") is not None:
        estimator = _distilled(config, estimator, modalities, segment, teacher)
    set_cv_groups(estimator, config.get("cv_groups"))  # every internal CV of the estimator, one policy
    if segment:
        estimator = SegmentClassifier(estimator, modalities=tuple(modalities), segment_frames=segment)
    return estimator


def with_class_weight(config, modalities, *, input_stats=None, class_weight="balanced"):
    """``config`` with every head's ``class_weight`` set in its params (e.g. ``head__class_weight``).

    The keys are the estimator's own parameters, so the saved config reproduces the model
    without knowing of ``--class-weight``.

    Raises
    ------
    ConfigError
        If no head of the configured estimator takes a ``class_weight``.
    """
    from ..heads import class_weight_params

    # Segment mode wraps the same estimator: its keys are those of the unwrapped one.
    # A student's keys are those of the student itself (the teacher wraps it afterwards, unweighted).
    estimator = build_estimator({**config, "segment_frames": 0, "teacher": None}, modalities, input_stats=input_stats)
    return {**config, "params": {**(config.get("params") or {}), **class_weight_params(estimator, class_weight)}}


def _distilled(config, student, modalities, segment, teacher):
    """The student wrapped with its teacher (cross-modal transfer), or a ConfigError naming the fix."""
    from ..fusion import DISTILL_ALPHA, DistilledClassifier

    names = [m[0] for m in modalities]
    if config["fusion"] not in names or segment:
        raise ConfigError(f"--teacher: the student must be one modality ({' or '.join(names)}) on whole clips; got "
                          f"fusion {config['fusion']!r}{' in segment mode' if segment else ''}: use --fusion "
                          f"{names[-1]} --teacher RUN")
    if teacher is None:
        raise ConfigError(f"teacher = {config.get('teacher')!r}: only avsc-sk fit trains a student of a teacher "
                          "run; remove teacher from the config here (from Python: build_estimator(..., "
                          "teacher=load_run(path).model))")
    alpha = config.get("distill_alpha")
    est = DistilledClassifier(student, teacher, alpha=DISTILL_ALPHA if alpha is None else float(alpha),
                              random_state=config.get("seed", 0))
    est._student()  # a head that cannot take soft targets is refused now, naming the fix
    try:
        est._validate_params()
    except InvalidParameterError as exc:
        raise ConfigError(f"distill_alpha = {alpha!r}: {str(exc).splitlines()[0]}") from None
    return est


def teacher_stats(config, teacher_manifest):
    """The statistics to read for a student of ``teacher_manifest``'s run: the teacher's, which must cover the student's.

    Raises
    ------
    ConfigError
        If the student's pooling asks for statistics the teacher was not trained on.
    """
    from ._store import run_stats

    if config.get("segment_frames"):
        raise ConfigError(f"--teacher with segment_frames = {config['segment_frames']}: a student learns on whole "
                          "clips; drop --segment-frames (segment_frames = 0)")
    stats = run_stats(teacher_manifest)
    wanted = read_stats(config)
    if stats is None or wanted is None or not set(wanted) <= set(stats):
        raise ConfigError(f"the student's pooling needs {wanted and list(wanted)} but the teacher was trained on "
                          f"{stats and list(stats)}; pool the student with the teacher's statistics "
                          "(params.features__<modality>__pool__stats)")
    return stats


def _auto_estimator(config, modalities, segment, input_stats):
    """``fusion`` and/or ``model`` "auto": the mode and head chosen by grouped cross-validation."""
    from ..experiments import AutoFusionClassifier

    if segment or config.get("params"):
        what = "segment_frames" if segment else f"params ({', '.join(config['params'])})"
        raise ConfigError(f"{what} cannot be combined with fusion or model 'auto', which builds every candidate "
                          "with its defaults; drop them, or name the fusion mode and head")
    kwargs = {} if config.get("budget") is None else {"budget": float(config["budget"])}
    if config.get("cv_groups") is not None:
        kwargs["cv_groups"] = config["cv_groups"]
    return AutoFusionClassifier(modalities=tuple(modalities), fusions=config["fusion"],
                                models=config.get("model") or "logreg",
                                input_stats=input_stats, random_state=config.get("seed", 0), **kwargs)


def _check_steps(estimator, params):
    """A key that names a sub-estimator (``pca``, ``head``) takes an estimator table or ``"passthrough"``."""
    nested = estimator.get_params(deep=True)
    for key, value in params.items():
        owner_key, _, leaf = key.rpartition("__")
        owner = nested.get(owner_key) if owner_key else estimator
        is_step = isinstance(owner, Pipeline) and leaf in dict(owner.steps)
        if (is_step or hasattr(nested.get(key), "fit")) and not (hasattr(value, "fit") or value in ("passthrough", None)):
            raise ConfigError(f"params.{key} = {value!r}: {key} is a step; give an estimator table such as "
                              '{ estimator = "PCA", n_components = 128 } or "passthrough"')


def _validate_params(estimator, params):
    """Check the values set from the config now, naming the key, rather than deep inside fit."""
    nested = estimator.get_params(deep=True)
    for key, value in params.items():
        owner_key = key.rpartition("__")[0]
        owner = nested.get(owner_key) if owner_key else estimator
        validate = getattr(owner, "_validate_params", None)
        if not callable(validate) or not hasattr(owner, "_parameter_constraints"):
            continue  # only scikit-learn's own estimators declare their constraints
        try:
            validate()
        except InvalidParameterError as exc:
            raise ConfigError(f"params.{key} = {value!r}: {str(exc).splitlines()[0]}") from None


def fit_estimator(estimator, train):
    """Fit on a FeatureSet, passing recording locations as ``groups`` where the estimator takes them."""
    if train.y is None:
        raise DataError(f"{train.source or 'features'}: split {train.split!r} has no labels; fit needs a labelled split")
    n_classes = len(set(train.y.tolist()))
    if n_classes < 2:
        raise DataError(f"{train.source or 'features'}: split {train.split!r} has only one class; "
                        "fit needs clips of at least two classes")
    try:
        return fit_with_groups(estimator, train.X, train.y, train.groups)
    except InvalidParameterError as exc:
        # set_params accepts any value; scikit-learn checks them only here, in fit.
        raise ConfigError(f"params: {str(exc).splitlines()[0]} Fix the value in the config or with --set") from None
