"""Run directories: fit a configured estimator, save it safely, load it back, predict.

A run directory holds::

    model.skops     the fitted estimator, in skops format (pickle only with ``trust_pickle``)
    config.toml     the resolved configuration; ``avsc-sk fit --config`` accepts it
    manifest.json   avsc-sk and library versions, seed, classes, modalities, the training
                    data's source and content hash, timings and scores

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
from ._config import build_params, dump_config
from ._io import atomic_dir
from ._load import BUILTIN
from ._pooling import SegmentClassifier, segment_modalities
from .data import SCENES
from .errors import ConfigError, DataError, RunError
from .fusion import make_estimator
from .heads import chosen_params, fit_with_groups

__all__ = ["Run", "TRUSTED_MODULES", "TRUSTED_TYPES", "build_estimator", "fit_estimator", "fit_run", "save_run", "load_run",
           "predict_proba_scenes", "predict_frame", "check_features", "feature_warnings"]

#: Module prefixes whose types a model file may contain; anything else is refused.
TRUSTED_MODULES = ("sklearn.", "avsc_sk.", "lightgbm.", "numpy.", "scipy.")
#: Types outside those modules that fitted models hold (LightGBM keeps its params in an OrderedDict).
TRUSTED_TYPES = ("collections.OrderedDict",)

_MANIFEST = "manifest.json"
_MODEL = "model.skops"
_CONFIG = "config.toml"
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


def build_estimator(config, modalities):
    """The unfitted estimator a configuration describes, for data laid out as ``modalities``."""
    seed = config.get("seed", 0)
    segment = config.get("segment_frames") or 0
    if segment < 0:
        raise ConfigError(f"segment_frames = {segment}: expected 0 (whole clips) or a positive frame count, "
                          "e.g. --segment-frames 10")
    layout = segment_modalities(modalities, segment) if segment else modalities
    estimator = make_estimator(config["fusion"], layout, model=config["model"], random_state=seed)
    params = build_params(config.get("params", {}))
    _check_steps(estimator, params)
    try:
        estimator.set_params(**params)
    except ValueError as exc:
        valid = sorted(estimator.get_params(deep=True))
        hint = ", ".join(k for k in valid if "__" in k and not k.endswith(("copy", "verbose")))[:300]
        raise ConfigError(f"params: {str(exc).splitlines()[0]} Valid keys include: {hint}") from None
    _validate_params(estimator, params)
    if segment:
        estimator = SegmentClassifier(estimator, modalities=tuple(modalities), segment_frames=segment)
    return estimator


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
        raise DataError(f"{train.source or 'features'}: split {train.split!r} has only one scene; "
                        "fit needs clips of at least two scenes")
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        return fit_with_groups(estimator, train.X, train.y, train.groups)
    except InvalidParameterError as exc:
        # set_params accepts any value; scikit-learn checks them only here, in fit.
        raise ConfigError(f"params: {str(exc).splitlines()[0]} Fix the value in the config or with --set") from None


def predict_proba_scenes(model, X):
    """``predict_proba`` with one column per scene of :data:`SCENES` (zeros for scenes never seen in training)."""
    proba = model.predict_proba(X)
    out = np.zeros((X.shape[0], len(SCENES)), dtype=np.float64)
    out[:, [SCENES.index(c) for c in model.classes_]] = proba
    return out


def _scores(model, data):
    # The reference scoring (log loss over the probabilities as prediction.csv prints them), so the
    # manifest, demo, compare and report all show the same figure for the same predictions.
    from .evaluation import score

    scores = score(data.y, predict_proba_scenes(model, data.X))
    return {"split": data.split, "n_clips": scores["n_clips"], "accuracy": scores["accuracy"],
            "macro_f1": scores["macro avg"]["f1-score"], "log_loss": scores["log_loss"]}


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
           "modalities": [list(m) for m in data.modalities]}
    if max_frames is not None and source is not None:  # the built-in data ignore max_frames
        out["max_frames"] = int(max_frames)
    return out


def fit_run(config, train, *, evaluate=None, source=None, max_frames=None):
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

    Returns
    -------
    model : fitted estimator
    manifest : dict
    """
    estimator = build_estimator(config, train.modalities)
    t0 = time.perf_counter()
    model = fit_estimator(estimator, train)
    fit_s = time.perf_counter() - t0
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
    }
    if evaluate is not None and evaluate.y is not None:
        check_features(manifest, evaluate)
        t0 = time.perf_counter()
        manifest["scores"] = _scores(model, evaluate)
        manifest["timings"]["predict_s"] = round(time.perf_counter() - t0, 3)
    return model, manifest


def save_run(run_dir, model, manifest, *, force=False):
    """Write a run directory atomically: complete, or not there at all."""
    synthetic = " on SYNTHETIC data" if manifest.get("synthetic") else ""
    header = f"avsc-sk {manifest['avsc_sk_version']} run config ({manifest['fusion']}{synthetic})\n" \
             f"reproduce: avsc-sk fit --config {Path(run_dir) / _CONFIG} --out NEW_RUN_DIR"
    import skops.io as sio  # imported here: it adds seconds to every command's start-up

    with atomic_dir(run_dir, force=force) as tmp:
        sio.dump(model, tmp / _MODEL)
        (tmp / _CONFIG).write_text(dump_config(manifest["config"], header), encoding="utf-8")
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return Path(run_dir)


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
    unknown = sorted(set(map(str, classes)) - set(SCENES))
    if unknown:
        raise RunError(f"{model_path} predicts unknown scene(s) {unknown[:3]}; the file was replaced, "
                       "re-run avsc-sk fit")
    width = sum(m[1] * m[2] for m in manifest["modalities"])
    n_in = getattr(model, "n_features_in_", width)
    if n_in != width:
        raise RunError(f"{model_path} expects {n_in} columns but {model_path.parent / _MANIFEST} describes {width} "
                       f"(modalities {manifest['modalities']}); the files do not belong together, re-run avsc-sk fit")


def check_features(manifest, data):
    """Refuse features whose modalities or dimensions differ from what the run was trained on."""
    trained = [tuple(m) for m in manifest["modalities"]]
    if list(data.modalities) != trained:
        hint = "predict with features extracted and laid out like the training data"
        frames = {f for _, f, _ in trained}
        same_dims = [(n, d) for n, _, d in data.modalities] == [(n, d) for n, _, d in trained]
        if same_dims and len(frames) == 1:
            hint = f"only the frame counts differ: read the features with --max-frames {frames.pop()} " \
                   "(max_frames=...) as in training"
        raise DataError(
            f"{data.source or 'features'} hold modalities {list(data.modalities)} but the model was trained on "
            f"{trained}; {hint}"
        )


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
        synthetic (or real) as the training data, and they are not the training clips.
    """
    train = manifest.get("train", {})
    out = []
    trained_cut = train.get("max_frames")
    if trained_cut is not None and max_frames is not None and trained_cut != max_frames:
        out.append(f"the run was trained on features read with max_frames={trained_cut} but these were read with "
                   f"max_frames={max_frames}; frame statistics (pooling) may cover a different span of each clip, "
                   f"pass --max-frames {trained_cut}")
    if bool(manifest.get("synthetic")) != bool(data.synthetic):
        kind = ("SYNTHETIC", "real") if manifest.get("synthetic") else ("real", "SYNTHETIC")
        out.append(f"the run was trained on {kind[0]} data but {data.source or 'these features'} hold {kind[1]} "
                   "data; scores do not carry over from one to the other")
    if train.get("n_clips") == data.n_clips and train.get("fingerprint") == data.fingerprint():
        out.append(f"{data.source or 'these features'} (split {data.split}) are the clips the run was trained on; "
                   "scores on them are optimistic, predict a held-out split (e.g. --split test)")
    return out


def predict_frame(run, data):
    """Predict a FeatureSet with a loaded run; returns the reference prediction frame."""
    from .evaluation import prediction_frame

    check_features(run.manifest, data)
    proba = predict_proba_scenes(run.model, data.X)
    return prediction_frame(data.clip_ids, proba, SCENES, data.y)
