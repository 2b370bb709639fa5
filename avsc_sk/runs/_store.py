"""Run storage: a run directory written atomically and loaded back under a trust policy.

A run directory holds::

    model.skops     the fitted estimator, in skops format (pickle only with ``trust_pickle``)
    config.toml     the resolved configuration; ``avsc-sk fit --config`` accepts it
    manifest.json   avsc-sk and library versions, seed, classes, modalities, the training
                    data's source and content hash, timings and scores
    train_clips.txt the training clips' ids, one a line (``manifest["train"]["clip_ids"]`` once
                    loaded), so that scoring a split can tell which of its clips were trained on
    calibration.json the prediction sets' calibration scores, one per training clip, by class
                    (``manifest["calibration"]["scores"]`` once loaded; only with fit --calibrate)

Loading checks the avsc-sk version and the manifest, and admits only the types in
:data:`TRUSTED_MODULES` and :data:`TRUSTED_TYPES`; a pickle (``model.pkl`` / ``model.joblib``) can run any code when
loaded, so it is refused unless the caller passes ``trust_pickle=True``.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from .._config import dump_config
from .._io import atomic_dir
from ..errors import RunError

#: Module prefixes whose types a model file may contain; anything else is refused.
TRUSTED_MODULES = ("sklearn.", "avsc_sk.", "lightgbm.", "numpy.", "scipy.")
#: Types outside those modules that fitted models hold (LightGBM keeps its params in an OrderedDict).
TRUSTED_TYPES = ("collections.OrderedDict",)

_MANIFEST = "manifest.json"
_MODEL = "model.skops"
_CONFIG = "config.toml"
_TRAIN_CLIPS = "train_clips.txt"
_CALIBRATION = "calibration.json"
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


def run_stats(manifest):
    """The statistics a run's training data were read with (``None``: frames), to read other data alike."""
    stats = manifest.get("train", {}).get("stats")
    return None if stats is None else tuple(stats)


def save_run(run_dir, model, manifest, *, force=False):
    """Write a run directory atomically: complete, or not there at all."""
    synthetic = " on SYNTHETIC data" if manifest.get("synthetic") else ""
    header = f"avsc-sk {manifest['avsc_sk_version']} run config ({manifest['config'].get('fusion', manifest['fusion'])}{synthetic})\n" \
             f"reproduce: avsc-sk fit --config {Path(run_dir) / _CONFIG} --out NEW_RUN_DIR"
    import skops.io as sio  # imported here: it adds seconds to every command's start-up

    train = dict(manifest.get("train", {}))
    clip_ids = train.pop("clip_ids", None)  # thousands of lines: a file of their own
    on_disk = {**manifest, "train": train} if "train" in manifest else manifest
    calibration = dict(manifest.get("calibration") or {})
    scores = calibration.pop("scores", None)  # one float per training clip: a compact file of their own
    if scores is not None:
        on_disk = {**on_disk, "calibration": calibration}
    # Serialised before anything at run_dir is touched: a model that cannot be written leaves the old run intact.
    try:
        blob = sio.dumps(_compact(model))
    except Exception as exc:
        text = " ".join(str(exc).split())[:200]
        raise RunError(f"{run_dir}: the model was fitted but cannot be saved ({type(exc).__name__}: {text}); "
                       "nothing was written and what was there is kept; please report it (AVSC_DEBUG=1 shows "
                       "the traceback)") from exc
    with atomic_dir(run_dir, force=force) as tmp:
        (tmp / _MODEL).write_bytes(blob)
        (tmp / _CONFIG).write_text(dump_config(manifest["config"], header), encoding="utf-8")
        (tmp / _MANIFEST).write_text(json.dumps(on_disk, indent=2) + "\n", encoding="utf-8")
        if clip_ids is not None:
            (tmp / _TRAIN_CLIPS).write_text("".join(f"{c}\n" for c in clip_ids), encoding="utf-8")
        if scores is not None:
            (tmp / _CALIBRATION).write_text(json.dumps(scores, separators=(",", ":")) + "\n", encoding="utf-8")
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
    calibration = run_dir / _CALIBRATION
    if calibration.is_file() and isinstance(manifest.get("calibration"), dict):
        try:
            manifest["calibration"]["scores"] = json.loads(calibration.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise RunError(f"{calibration} is damaged ({exc}); re-fit the run, or delete the file and "
                           "predict without --coverage") from None
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
