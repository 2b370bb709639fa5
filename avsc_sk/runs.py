"""Run directories: fit a configured estimator, save it safely, load it back, predict.

A run directory holds::

    model.skops     the fitted estimator, in skops format (pickle only with ``trust_pickle``)
    config.toml     the resolved configuration; ``avsc-sk fit --config`` accepts it
    manifest.json   avsc-sk and library versions, seed, classes, modalities, the training
                    data's source and content hash, timings and scores
    train_clips.txt the training clips' ids, one a line (``manifest["train"]["clip_ids"]`` once
                    loaded), so that scoring a split can tell which of its clips were trained on

Loading checks the avsc-sk version and the manifest, and admits only the types in
:data:`TRUSTED_MODULES` and :data:`TRUSTED_TYPES`; a pickle (``model.pkl`` / ``model.joblib``) can run any code when
loaded, so it is refused unless the caller passes ``trust_pickle=True``.
"""

import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from . import __version__
from ._config import build_params, check_param_keys, dump_config
from ._io import atomic_dir
from ._load import BUILTIN
from ._pooling import SegmentClassifier, segment_modalities
from .data import POOLING_STATS, check_stat_names, stat_names
from .errors import ConfigError, DataError, RunError
from .fusion import make_estimator
from .model_selection import set_cv_groups
from .heads import chosen_params, fit_with_groups

__all__ = ["Run", "TRUSTED_MODULES", "TRUSTED_TYPES", "build_estimator", "with_class_weight", "fit_estimator",
           "fit_run", "save_run", "load_run",
           "predict_proba_scenes", "predict_frame", "check_features", "feature_warnings", "scoring_warnings",
           "score_label", "format_scores", "read_stats", "run_stats"]

#: Module prefixes whose types a model file may contain; anything else is refused.
TRUSTED_MODULES = ("sklearn.", "avsc_sk.", "lightgbm.", "numpy.", "scipy.")
#: Types outside those modules that fitted models hold (LightGBM keeps its params in an OrderedDict).
TRUSTED_TYPES = ("collections.OrderedDict",)

_MANIFEST = "manifest.json"
_MODEL = "model.skops"
_CONFIG = "config.toml"
_TRAIN_CLIPS = "train_clips.txt"
_PICKLES = ("model.pkl", "model.joblib")


@dataclass
class Run:
    """A loaded run: the fitted ``model``, its ``manifest`` dict, where it lives, and the model file read."""

    path: Path
    model: object
    manifest: dict
    model_file: Path = None

    @property
    def from_pickle(self):
        """True when the model was read from a pickle (``load_run(..., trust_pickle=True)``)."""
        return self.model_file is not None and self.model_file.name in _PICKLES

    @property
    def name(self):
        """The run's label in tables: its fusion mode."""
        return self.manifest.get("fusion", self.path.name)


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


def run_stats(manifest):
    """The statistics a run's training data were read with (``None``: frames), to read other data alike."""
    stats = manifest.get("train", {}).get("stats")
    return None if stats is None else tuple(stats)


def build_estimator(config, modalities, *, input_stats=None):
    """The unfitted estimator a configuration describes, for data laid out as ``modalities``.

    ``input_stats`` is ``FeatureSet.stats`` of that data: the statistics read per modality
    (``None``: frames, which segment mode needs).
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
    if "auto" in (config["fusion"], config["model"]):
        return _auto_estimator(config, layout, segment, input_stats)
    estimator = make_estimator(config["fusion"], layout, input_stats=input_stats, model=config["model"],
                               random_state=seed)
    params = build_params(config.get("params", {}))
    check_param_keys(estimator, params)
    _check_steps(estimator, params)
    estimator.set_params(**params)
    _validate_params(estimator, params)
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
    from .heads import class_weight_params

    # Segment mode wraps the same estimator: its keys are those of the unwrapped one.
    estimator = build_estimator({**config, "segment_frames": 0}, modalities, input_stats=input_stats)
    return {**config, "params": {**(config.get("params") or {}), **class_weight_params(estimator, class_weight)}}


def _auto_estimator(config, modalities, segment, input_stats):
    """``fusion`` and/or ``model`` "auto": the mode and head chosen by grouped cross-validation."""
    from .experiments import AutoFusionClassifier

    if segment or config.get("params"):
        what = "segment_frames" if segment else f"params ({', '.join(config['params'])})"
        raise ConfigError(f"{what} cannot be combined with fusion or model 'auto', which builds every candidate "
                          "with its defaults; drop them, or name the fusion mode and head")
    kwargs = {} if config.get("budget") is None else {"budget": float(config["budget"])}
    if config.get("cv_groups") is not None:
        kwargs["cv_groups"] = config["cv_groups"]
    return AutoFusionClassifier(modalities=tuple(modalities), fusions=config["fusion"], models=config["model"],
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
    from sklearn.utils._param_validation import InvalidParameterError

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
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        return fit_with_groups(estimator, train.X, train.y, train.groups)
    except InvalidParameterError as exc:
        # set_params accepts any value; scikit-learn checks them only here, in fit.
        raise ConfigError(f"params: {str(exc).splitlines()[0]} Fix the value in the config or with --set") from None


def predict_proba_scenes(model, X, *, n_jobs=1):
    """``predict_proba`` as float64, one column per class of ``model.classes_`` (the run's label space).

    ``n_jobs`` > 1 predicts that many chunks of clips at once, in threads (numpy releases the
    GIL while pooling the frames); each clip is predicted on its own, so the result is the same.
    """
    from joblib import Parallel, delayed, effective_n_jobs

    n = min(effective_n_jobs(n_jobs), X.shape[0])
    if n > 1:
        bounds = np.linspace(0, X.shape[0], n + 1).astype(int)
        proba = np.vstack(Parallel(n_jobs=n, prefer="threads")(
            delayed(model.predict_proba)(X[a:b]) for a, b in zip(bounds[:-1], bounds[1:])))
    else:
        proba = model.predict_proba(X)
    return np.asarray(proba, dtype=np.float64)


def _scores(model, data, train=None, n_jobs=1):
    # Both log losses, named as everywhere: log_loss exact (float probabilities), log_loss_ref3 over
    # them rounded as prediction.csv prints them (the reference scoring), so the manifest, demo,
    # compare and report show the same figures for the same predictions.
    from .evaluation import LOG_LOSS, LOG_LOSS_REF, score

    scores = score(data.y, predict_proba_scenes(model, data.X, n_jobs=n_jobs),
                   classes=[str(c) for c in model.classes_])
    out = {"split": data.split, "n_clips": scores["n_clips"], "accuracy": scores["accuracy"],
           "balanced_accuracy": scores["balanced_accuracy"],
           "macro_f1": scores["macro avg"]["f1-score"], LOG_LOSS: scores[LOG_LOSS],
           LOG_LOSS_REF: scores[LOG_LOSS_REF]}
    if train is not None:
        out["n_trained_on"] = _n_shared(train.clip_ids, data)
    return out


def format_scores(scores):
    """``accuracy 0.xxx, balanced accuracy 0.xxx, log_loss 0.xxx, log_loss_ref3 0.xxx (N clips)``."""
    ref = f", log_loss_ref3 {scores['log_loss_ref3']:.3f}" if "log_loss_ref3" in scores else ""
    balanced = f", balanced accuracy {scores['balanced_accuracy']:.3f}" if "balanced_accuracy" in scores else ""
    return (f"accuracy {scores['accuracy']:.3f}{balanced}, log_loss {scores['log_loss']:.3f}{ref} "
            f"({scores['n_clips']} clips)")


def score_label(scores):
    """How a score line names the split scored: ``test``, or ``test (in-sample: ...)`` for trained-on clips."""
    n = scores.get("n_trained_on", 0)
    if not n:
        return str(scores["split"])
    return f"{scores['split']} (in-sample: {n} of {scores['n_clips']} clips were trained on)"


def _n_shared(train_clip_ids, data):
    return int(np.isin(np.asarray(data.clip_ids, dtype=str), np.asarray(train_clip_ids, dtype=str)).sum())


def scoring_warnings(classes, train_clip_ids, data, *, trained="the training split"):
    """One-line warnings about scoring ``data`` with a model trained on other clips.

    Parameters
    ----------
    classes : iterable of str
        The scenes the model was trained on (its ``classes_``).
    train_clip_ids : array-like of str or None
        The training clips; ``None`` when unknown (no overlap check).
    data : FeatureSet
        The clips scored.
    trained : str, default="the training split"
        How the messages name the training data.

    Returns
    -------
    list of str
        An in-sample warning when some of ``data``'s clips were trained on (their scores are
        optimistic), and one naming the scenes of ``data`` that training lacked.
    """
    from .evaluation import unseen_class_warning

    out = []
    if train_clip_ids is not None:
        n = _n_shared(train_clip_ids, data)
        if n:
            out.append(f"{n} of the {data.n_clips} clips of {data.source or 'the features'} (split {data.split}) "
                       f"were in {trained}; their scores are in-sample (optimistic), not held-out: "
                       "score a split the model was not trained on (e.g. --split test)")
    if data.y is not None:
        message = unseen_class_warning(data.y, classes, trained=trained)
        if message:
            out.append(message)
    return out


def _versions():
    import h5py
    import lightgbm
    import pandas
    import scipy
    import sklearn
    import skops

    return {"avsc_sk": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "scikit_learn": sklearn.__version__, "pandas": pandas.__version__,
            "h5py": h5py.__version__, "lightgbm": lightgbm.__version__, "skops": skops.__version__}


def _describe(data, source, max_frames):
    out = {"source": str(source) if source is not None else BUILTIN, "split": data.split,
           "n_clips": int(data.n_clips), "fingerprint": data.fingerprint(), "synthetic": data.synthetic,
           "modalities": [list(m) for m in data.modalities], "clip_ids": [str(c) for c in data.clip_ids],
           "stats": None if data.stats is None else list(data.stats)}
    if max_frames is not None:
        out["max_frames"] = int(max_frames)
    return out


def fit_run(config, train, *, evaluate=None, source=None, max_frames=None, n_jobs=1):
    """Build, fit and score the estimator ``config`` describes.

    Parameters
    ----------
    config : dict
        A configuration from :func:`avsc_sk._config.load_config`.
    train : FeatureSet
        Labelled training clips.
    evaluate : FeatureSet, optional
        Labelled clips to score the fitted model on (recorded in the manifest).
    source : str, optional
        Where the features came from; ``None`` means the built-in data.
    max_frames : int, optional
        The ``max_frames`` the features from ``source`` were read with, recorded so that
        prediction can warn when features are read differently.
    n_jobs : int, default=1
        Parallel jobs of the fit where the estimator has them (late and weighted fusion: their
        internal folds) and of scoring ``evaluate``. Predictions and
        scores do not depend on it; the model's ``n_jobs`` parameter is set back afterwards.

    Returns
    -------
    model : fitted estimator
    manifest : dict
    """
    estimator = build_estimator(config, train.modalities, input_stats=train.stats)
    key = _n_jobs_key(estimator)
    saved = estimator.get_params()[key] if key else None
    if key and n_jobs != 1:
        estimator.set_params(**{key: n_jobs})
    t0 = time.perf_counter()
    model = fit_estimator(estimator, train)
    fit_s = time.perf_counter() - t0
    if key:
        model.set_params(**{key: saved})  # a runtime choice, not part of the model
    manifest = {
        "avsc_sk_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fusion": config["fusion"], "model": config["model"], "seed": config.get("seed", 0),
        "config": config,
        "classes": [str(c) for c in model.classes_],
        "modalities": [list(m) for m in train.modalities],
        "synthetic": bool(train.synthetic),
        "train": _describe(train, source, max_frames),
        "versions": _versions(),
        # What the heads chose on grouped inner folds (or were given), e.g. {"head__C": 0.003}.
        "chosen": chosen_params(model),
        "timings": {"fit_s": round(fit_s, 3)},
        "scores": {},
        "warnings": [],
    }
    if hasattr(model, "best_estimator_"):  # fusion or model "auto": what was chosen, and why
        from .experiments import selection_summary

        manifest["selection"] = selection_summary(model)
    if evaluate is not None and evaluate.y is not None:
        frames = _frame_count_warning(manifest, evaluate)
        evaluate = check_features(manifest, evaluate)
        t0 = time.perf_counter()
        manifest["scores"] = _scores(model, evaluate, train=train, n_jobs=n_jobs)
        manifest["timings"]["predict_s"] = round(time.perf_counter() - t0, 3)
        manifest["warnings"] = [*([frames] if frames else []),
                                *scoring_warnings(model.classes_, train.clip_ids, evaluate,
                                                  trained=f"the training split {train.split}")]
    return model, manifest


def _n_jobs_key(estimator):
    """The parameter of a fusion estimator (or the one a SegmentClassifier wraps) that sets its parallel jobs."""
    params = estimator.get_params(deep=False)
    if "n_jobs" in params:
        return "n_jobs"
    inner = params.get("estimator")
    if isinstance(estimator, SegmentClassifier) and inner is not None and "n_jobs" in inner.get_params(deep=False):
        return "estimator__n_jobs"
    return None


def save_run(run_dir, model, manifest, *, force=False):
    """Write a run directory atomically: complete, or not there at all."""
    synthetic = " on SYNTHETIC data" if manifest.get("synthetic") else ""
    header = f"avsc-sk {manifest['avsc_sk_version']} run config ({manifest['fusion']}{synthetic})\n" \
             f"reproduce: avsc-sk fit --config {Path(run_dir) / _CONFIG} --out NEW_RUN_DIR"
    import skops.io as sio  # imported here: it adds seconds to every command's start-up

    train = dict(manifest.get("train", {}))
    clip_ids = train.pop("clip_ids", None)  # thousands of lines: a file of their own
    on_disk = {**manifest, "train": train} if "train" in manifest else manifest
    with atomic_dir(run_dir, force=force) as tmp:
        sio.dump(_compact(model), tmp / _MODEL)
        (tmp / _CONFIG).write_text(dump_config(manifest["config"], header), encoding="utf-8")
        (tmp / _MANIFEST).write_text(json.dumps(on_disk, indent=2) + "\n", encoding="utf-8")
        if clip_ids is not None:
            (tmp / _TRAIN_CLIPS).write_text("".join(f"{c}\n" for c in clip_ids), encoding="utf-8")
    return Path(run_dir)


def _compact(model):
    """``model`` with every fitted ColumnTransformer's column lists stored as integer arrays.

    scikit-learn keeps, per transformer, a Python list of every input column index (private
    ``_transformer_to_input_indices``, read after fit only to index ``feature_names_in_``); skops
    writes each int of such a list as its own JSON node, so they made most of a run file and of its
    load time. An array is one ``.npy`` entry and indexes the same way. Changed in place.
    """
    from sklearn.compose import ColumnTransformer

    for obj in _estimators_in(model, set()):
        indices = getattr(obj, "_transformer_to_input_indices", None)
        if isinstance(obj, ColumnTransformer) and isinstance(indices, dict):
            obj._transformer_to_input_indices = {k: np.asarray(v, dtype=np.intp) for k, v in indices.items()}
    return model


def _estimators_in(obj, seen):
    """Every estimator reachable from ``obj`` (itself, its steps, fitted members, ...), each once."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _estimators_in(item, seen)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _estimators_in(item, seen)
    elif hasattr(obj, "get_params") and hasattr(obj, "__dict__"):
        yield obj
        for item in vars(obj).values():
            yield from _estimators_in(item, seen)


def load_run(run_dir, *, trust_pickle=False):
    """Load a run directory written by :func:`save_run`, refusing untrusted or foreign model files.

    Parameters
    ----------
    run_dir : str or Path
    trust_pickle : bool, default=False
        Accept a run whose model is a pickle (``model.pkl`` or ``model.joblib``) instead of
        ``model.skops``. Loading a pickle can run any code it holds: only for files you made.

    Returns
    -------
    Run

    Raises
    ------
    RunError
        If files are missing, the manifest is unreadable or incomplete, the run comes from
        another avsc-sk version, the model file holds a type outside :data:`TRUSTED_MODULES`
        or does not fit the manifest, or it is a pickle and ``trust_pickle`` is False.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"run directory {run_dir} does not exist; create one with avsc-sk fit --out {run_dir}")
    manifest = _read_manifest(run_dir)
    clips = run_dir / _TRAIN_CLIPS
    if clips.is_file() and isinstance(manifest.get("train"), dict):
        manifest["train"]["clip_ids"] = clips.read_text(encoding="utf-8").splitlines()
    model_path = run_dir / _MODEL
    if model_path.is_file():
        model = _load_skops(model_path)
    else:
        pickles = [run_dir / name for name in _PICKLES if (run_dir / name).is_file()]
        if not pickles:
            raise RunError(f"{model_path} is missing; {run_dir} is incomplete, re-run avsc-sk fit")
        model_path = pickles[0]
        if not trust_pickle:
            raise RunError(f"{model_path} is a pickle, which runs any code it holds when loaded; avsc-sk refuses it. "
                           "Re-run avsc-sk fit to get model.skops, or, only if you made that file yourself, "
                           "pass --trust-pickle (load_run(..., trust_pickle=True))")
        model = _load_pickle(model_path)
    _check_model(model, model_path, manifest)
    return Run(run_dir, model, manifest, model_path)


def _read_manifest(run_dir):
    path = run_dir / _MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path} is missing; {run_dir} is not an avsc-sk run directory") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path} is not valid JSON ({' '.join(str(exc).split())[:80]}); re-run avsc-sk fit") from None
    version = manifest.get("avsc_sk_version") if isinstance(manifest, dict) else None
    if version != __version__:
        raise RunError(f"{run_dir} was made by avsc-sk {version}, this is {__version__}; "
                       "re-run avsc-sk fit with this version (or install the one that made it)")
    mods = manifest.get("modalities")
    valid = isinstance(mods, list) and mods and all(
        isinstance(m, list) and len(m) == 3 and isinstance(m[0], str)
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in m[1:]) for m in mods)
    if not valid:
        raise RunError(f"{path}: 'modalities' is {mods!r}, not a list of [name, n_frames, dim]; the manifest was "
                       "edited or damaged, re-run avsc-sk fit")
    return manifest


def _load_skops(model_path):
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=model_path)
    except Exception as exc:  # skops raises many types on a damaged zip
        raise RunError(f"{model_path} is not a readable skops file ({type(exc).__name__}); re-run avsc-sk fit") from None
    refused = [t for t in untrusted if not t.startswith(TRUSTED_MODULES) and t not in TRUSTED_TYPES]
    if refused:
        raise RunError(f"{model_path} contains untrusted type {refused[0]!r}; refusing to load it. "
                       "Only models saved by avsc-sk are accepted; re-run avsc-sk fit")
    try:
        return sio.load(model_path, trusted=untrusted)
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        raise RunError(f"{model_path} could not be loaded ({reason}); re-run avsc-sk fit") from None


def _load_pickle(model_path):
    import joblib

    try:
        return joblib.load(model_path)
    except Exception as exc:  # unpickling fails in as many ways as the pickled code can
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        raise RunError(f"{model_path} could not be loaded ({reason}); re-run avsc-sk fit") from None


def _check_model(model, model_path, manifest):
    """A model file swapped for another object is refused here, not as a traceback in predict."""
    classes = getattr(model, "classes_", None)
    if not callable(getattr(model, "predict_proba", None)) or classes is None:
        raise RunError(f"{model_path} holds a {type(model).__name__}, not a fitted classifier with predict_proba; "
                       "the file was replaced or damaged, re-run avsc-sk fit")
    stats = run_stats(manifest)
    width = sum((m[1] if stats is None else len(stats)) * m[2] for m in manifest["modalities"])
    n_in = getattr(model, "n_features_in_", width)
    if n_in != width:
        raise RunError(f"{model_path} expects {n_in} columns but {model_path.parent / _MANIFEST} describes {width} "
                       f"(modalities {manifest['modalities']}); the files do not belong together, re-run avsc-sk fit")
    recorded = manifest.get("classes")
    if recorded is not None and [str(c) for c in classes] != [str(c) for c in recorded]:
        raise RunError(f"{model_path} predicts the classes {[str(c) for c in classes][:3]}... but "
                       f"{model_path.parent / _MANIFEST} records {list(recorded)[:3]}...; the files do not belong "
                       "together, re-run avsc-sk fit")


def check_features(manifest, data):
    """Features laid out as the run was trained on: ``data`` itself, or its frames spread to the trained count.

    Pooling (mean, std, ... over frames) does not depend on the frame count, but a fitted
    model pools a fixed number of frames; clips with another count are given that many
    frames spread evenly over each clip (frame ``i * n // n_trained``; whole repeats when
    there are fewer), which :func:`feature_warnings` reports. Segment mode cuts clips into
    segments of a fixed frame count, so there a different count is refused.

    Raises
    ------
    DataError
        If the modalities or their dimensions differ, or the frame counts differ in segment mode.
    """
    trained = [tuple(m) for m in manifest["modalities"]]
    stats = run_stats(manifest)
    if data.stats != stats:
        held = lambda s: "frames" if s is None else f"the statistics {list(s)}"  # noqa: E731
        raise DataError(f"{data.source or 'features'} hold {held(data.stats)} but the model was trained on "
                        f"{held(stats)}; read them alike (read_features(..., stats=run_stats(run.manifest)))")
    if list(data.modalities) == trained:
        return data
    same_dims = [(n, d) for n, _, d in data.modalities] == [(n, d) for n, _, d in trained]
    segment = (manifest.get("config") or {}).get("segment_frames") or 0
    if same_dims and not segment:
        # Statistics pooled while reading cover every frame of a clip, whatever their count.
        return data if data.stats is not None else _spread_frames(data, trained)
    hint = "predict with features extracted and laid out like the training data"
    frames = {f for _, f, _ in trained}
    if same_dims and len(frames) == 1:
        hint = f"only the frame counts differ, which segment mode (segment_frames = {segment}) cannot take: " \
               f"read the features with --max-frames {frames.pop()} (max_frames=...) as in training"
    raise DataError(
        f"{data.source or 'features'} hold modalities {list(data.modalities)} but the model was trained on "
        f"{trained}; {hint}"
    )


def _frame_count_warning(manifest, data):
    """The warning for clips :func:`check_features` gives spread frames, or None."""
    counts = {n: f for n, f, _ in manifest.get("modalities", [])}
    other = [(n, counts[n], f) for n, f, _ in data.modalities if n in counts and counts[n] != f]
    if not other:
        return None
    what = ", ".join(f"{n} {got} instead of {want}" for n, want, got in other)
    if data.stats is not None:
        return (f"{data.source or 'these features'} hold clips of another frame count than the run was trained "
                f"on ({what}); their statistics are pooled over all their frames, as in training")
    return (f"{data.source or 'these features'} hold clips of another frame count than the run was trained on "
            f"({what}); each clip is predicted from that many frames spread evenly over it (as the DCASE 2021 "
            "baseline scores clips), not from all of them: fit on these features to pool every frame")


def _spread_frames(data, trained):
    from .data import FeatureSet

    blocks = []
    for name, n_frames, dim in trained:
        frames = data.frames(name)
        index = np.arange(n_frames) * frames.shape[1] // n_frames
        blocks.append(frames[:, index].reshape(data.n_clips, n_frames * dim))
    return FeatureSet(np.ascontiguousarray(np.hstack(blocks)), trained, data.clip_ids, data.y, data.city,
                      data.location, data.split, data.source, data.synthetic, classes=data.classes)


def feature_warnings(manifest, data, *, max_frames=None):
    """One-line warnings about features that fit the run's layout but differ from its training data.

    Parameters
    ----------
    manifest : dict
        The run's manifest.
    data : FeatureSet
        Features about to be predicted (already accepted by :func:`check_features`).
    max_frames : int, optional
        The ``max_frames`` they were read with.

    Returns
    -------
    list of str
        Empty when nothing differs: the frames were cut as in training, the data are as
        synthetic (or real) as the training data, none of their clips was trained on and
        training saw every scene they are labelled with.
    """
    train = manifest.get("train", {})
    out = [message] if (message := _frame_count_warning(manifest, data)) else []
    trained_cut = train.get("max_frames")
    if trained_cut is not None and max_frames is not None and trained_cut != max_frames:
        out.append(f"the run was trained on features read with max_frames={trained_cut} but these were read with "
                   f"max_frames={max_frames}; frame statistics (pooling) may cover a different span of each clip, "
                   f"pass --max-frames {trained_cut}")
    if bool(manifest.get("synthetic")) != bool(data.synthetic):
        kind = ("SYNTHETIC", "real") if manifest.get("synthetic") else ("real", "SYNTHETIC")
        out.append(f"the run was trained on {kind[0]} data but {data.source or 'these features'} hold {kind[1]} "
                   "data; scores do not carry over from one to the other")
    clip_ids = train.get("clip_ids")
    if clip_ids is None and train.get("n_clips") == data.n_clips and train.get("fingerprint") == data.fingerprint():
        clip_ids = data.clip_ids  # a run saved without its clip list: only the whole split is recognised
    out.extend(scoring_warnings(manifest.get("classes", ()), clip_ids, data,
                                trained=f"the run's training split {train.get('split', '')}".rstrip()))
    return out


def predict_frame(run, data, *, n_jobs=1):
    """Predict a FeatureSet with a loaded run; returns the reference prediction frame.

    ``n_jobs`` > 1 predicts chunks of clips at once (see :func:`predict_proba_scenes`).
    """
    from .evaluation import prediction_frame

    data = check_features(run.manifest, data)
    proba = predict_proba_scenes(run.model, data.X, n_jobs=n_jobs)
    return prediction_frame(data.clip_ids, proba, [str(c) for c in run.model.classes_], data.y)
