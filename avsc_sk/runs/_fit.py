"""Fitting a run: build the configured estimator, fit it, score it and write down how (the manifest)."""

import platform
import time
import warnings

import numpy as np

from .. import __version__
from .._load import BUILTIN
from .._pooling import SegmentClassifier
from .._progress import using
from ..errors import CVFallbackWarning, DataError
from ..fusion import MissingModalityWarning, NoModalityWarning, model_name
from ..heads import chosen_params
from ..model_selection import cv_fallbacks
from ._build import build_estimator, fit_estimator
from ._predict import _frame_count_warning, check_features
from ._score import no_modality_warning, partial_training_warning, score_model, scoring_warnings


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


def _describe(data, source, max_frames, missing):
    out = {"source": str(source) if source is not None else BUILTIN, "split": data.split,
           "n_clips": int(data.n_clips), "fingerprint": data.fingerprint(), "synthetic": data.synthetic,
           "modalities": [list(m) for m in data.modalities], "clip_ids": [str(c) for c in data.clip_ids],
           "stats": None if data.stats is None else list(data.stats),
           # Clips that have each modality (fewer than n_clips where some lack one).
           "clips_per_modality": {name: int(n) for name, n in zip(data.modality_names,
                                                                  (~missing).sum(axis=0))}}
    if max_frames is not None:
        out["max_frames"] = int(max_frames)
    return out


def fit_run(config, train, *, evaluate=None, source=None, max_frames=None, n_jobs=1, calibrate=False,
            progress=None, teacher=None):
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
    calibrate : bool, default=False
        Also compute the conformal prediction sets' calibration (``manifest["calibration"]``):
        every training clip's nonconformity score from a clone of the fitted model, hyper-parameters
        fixed, trained on the other location-grouped folds
        (:func:`avsc_sk.experiments.calibration_probabilities`). Costs about five fits of the model
        without its hyper-parameter search; ``avsc-sk fit --calibrate`` asks for it.
    progress : callable, optional
        A progress hook (``tqdm.tqdm``'s signature, see ``avsc_sk._progress``) for the fit's
        long steps: late and weighted fusion's member fits, auto selection's candidates.
        ``None``: silent.
    teacher : Run, optional
        The loaded run ``config["teacher"]`` names (:func:`avsc_sk.runs.load_run`); loaded here
        when the config names one and none is given. Recorded in ``manifest["teacher"]``.

    Notes
    -----
    ``manifest["cv_fallbacks"]`` lists, once each, the internal cross-validations that could
    not group their folds by recording location and used stratified folds instead (the
    :class:`~avsc_sk.errors.CVFallbackWarning` texts): what they chose is optimistic.

    Returns
    -------
    model : fitted estimator
    manifest : dict
    """
    if teacher is None and config.get("teacher") is not None:
        from ._store import load_run

        teacher = load_run(config["teacher"])
    if teacher is not None:
        check_features(teacher.manifest, train)  # the teacher reads the student's training clips
    estimator = build_estimator(config, train.modalities, input_stats=train.stats,
                                teacher=None if teacher is None else teacher.model)
    key = _n_jobs_key(estimator)
    saved = estimator.get_params()[key] if key else None
    if key and n_jobs != 1:
        estimator.set_params(**{key: n_jobs})
    t0 = time.perf_counter()
    with using(progress):
        model, fallbacks = _fit_noting_fallbacks(estimator, train)
    fit_s = time.perf_counter() - t0
    if key:
        model.set_params(**{key: saved})  # a runtime choice, not part of the model
    train_missing = train.missing()  # read once: the manifest and two warnings need it
    manifest = {
        "avsc_sk_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        # The classifier used: the head, or for intermediate fusion its network (never a head it did not use).
        "fusion": config["fusion"], "model": model_name(config["fusion"], config.get("model")),
        "seed": config.get("seed", 0),
        "config": config,
        "classes": [str(c) for c in model.classes_],
        "modalities": [list(m) for m in train.modalities],
        "synthetic": bool(train.synthetic),
        "train": _describe(train, source, max_frames, train_missing),
        "versions": _versions(),
        # What the heads chose on grouped inner folds (or were given), e.g. {"head__C": 0.003}.
        "chosen": chosen_params(getattr(model, "estimator_", model) if teacher is not None else model),
        # Internal folds (a head's choice of C, late/weighted fusion's out-of-fold probabilities, the
        # MLP's hold-out) that could not be grouped by location and shared locations instead.
        "cv_fallbacks": fallbacks,
        "timings": {"fit_s": round(fit_s, 3)},
        "scores": {},
        "warnings": [],
    }
    if teacher is not None:
        t = teacher.manifest
        manifest["teacher"] = {"path": str(teacher.path), "fusion": t.get("fusion"), "model": t.get("model"),
                               "modalities": t.get("modalities"), "created": t.get("created"),
                               "train_fingerprint": (t.get("train") or {}).get("fingerprint"),
                               "scores": t.get("scores"), "alpha": float(model.alpha),
                               "oof_accuracy": model.teacher_oof_accuracy_, "oof_log_loss": model.teacher_oof_log_loss_,
                               "oof_folds": len(model.cv_splits_), "cv_fallback": model.cv_fallback_}
    if calibrate:
        try:
            # The fit has said once that its folds share locations; the calibration's then share them too
            # (recorded in its record and fit's output line), so it is not said again.
            with warnings.catch_warnings():
                if fallbacks:
                    warnings.simplefilter("ignore", CVFallbackWarning)
                manifest["calibration"] = calibrate_run(model, train, config, n_jobs=n_jobs)
            manifest["timings"]["calibration_s"] = manifest["calibration"]["seconds"]
        except DataError as exc:
            # Too few clips for five more fits with the chosen hyper-parameters (a k-NN's k chosen on every
            # clip, say): the model is fine, only its prediction sets are unavailable.
            manifest["calibration"] = None
            manifest["warnings"].append("no prediction sets for this run (predict --coverage refuses it): its "
                                        f"calibration folds could not be fitted: {exc}")
    if hasattr(model, "best_estimator_"):  # fusion or model "auto": what was chosen, and why
        from ..experiments import selection_summary

        manifest["selection"] = selection_summary(model)
        # The run is what the search fitted; config (and selection) keep that it was a search.
        fusion = manifest["selection"]["fusion"]
        manifest["fusion"], manifest["model"] = fusion, model_name(fusion, manifest["selection"]["model"])
    left_out = no_modality_warning(manifest["fusion"], train.modalities, train, training=True,
                                   missing=train_missing)
    if left_out:
        warnings.warn(NoModalityWarning(left_out), stacklevel=2)
    partial = partial_training_warning(manifest["fusion"], train, train_missing)
    if partial:
        warnings.warn(MissingModalityWarning(partial), stacklevel=2)
    if evaluate is not None and evaluate.y is not None:
        frames = _frame_count_warning(manifest, evaluate)
        evaluate = check_features(manifest, evaluate)
        t0 = time.perf_counter()
        manifest["scores"] = score_model(model, evaluate, train=train, n_jobs=n_jobs)
        manifest["timings"]["predict_s"] = round(time.perf_counter() - t0, 3)
        absent = no_modality_warning(manifest["fusion"], train.modalities, evaluate)
        manifest["warnings"] = [*manifest["warnings"], *([frames] if frames else []), *([absent] if absent else []),
                                *scoring_warnings(model.classes_, train.clip_ids, evaluate,
                                                  trained=f"the training split {train.split}")]
    return model, manifest


def calibrate_run(model, train, config, *, n_jobs=1, cv=5):
    """The calibration record of a fitted run: grouped out-of-fold nonconformity scores of its training clips.

    See :func:`avsc_sk.experiments.calibration_probabilities` (where they come from) and
    :func:`avsc_sk.evaluation.calibration_record` (what is stored).
    """
    from ..evaluation import calibration_record
    from ..experiments import calibration_probabilities

    # A clip with no modality at all is left out of every fit; it says nothing about the model's errors.
    keep = ~train.missing().all(axis=1)
    if not keep.all():
        train = train.subset(np.flatnonzero(keep))
    proba, info = calibration_probabilities(model, train.X, train.y, train.groups, cv=cv,
                                            random_state=config.get("seed", 0),
                                            cv_groups=config.get("cv_groups") or "auto", n_jobs=n_jobs)
    info.pop("splits")
    return calibration_record(proba, train.y, model.classes_, method="grouped out-of-fold",
                              n_without_modality=int((~keep).sum()), **info)


def _fit_noting_fallbacks(estimator, train):
    """Fit, and list every internal cross-validation that fell back to stratified folds.

    The warnings are collected as they pass (fold fits inside late fusion leave no fitted
    estimator behind to ask) and given again unchanged; the fitted model's ``cv_fallback_``
    records add what parallel workers said where this process could not hear it.
    """
    with warnings.catch_warnings(record=True) as caught:
        model = fit_estimator(estimator, train)
    heard = []
    for w in caught:
        if issubclass(w.category, CVFallbackWarning) and str(w.message) not in heard:
            heard.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return model, heard + [m for m in cv_fallbacks(model) if m not in heard]


def _n_jobs_key(estimator):
    """The parameter of a fusion estimator (or the one a SegmentClassifier wraps) that sets its parallel jobs."""
    params = estimator.get_params(deep=False)
    if "n_jobs" in params:
        return "n_jobs"
    inner = params.get("estimator")
    if isinstance(estimator, SegmentClassifier) and inner is not None and "n_jobs" in inner.get_params(deep=False):
        return "estimator__n_jobs"
    return None
