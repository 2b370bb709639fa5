"""Calibration probabilities for conformal prediction sets: grouped out-of-fold fits of a fitted model.

A prediction set is only as honest as its calibration clips: each must be scored by a model that
never trained on it, and, because test clips come from recording locations training never saw,
by a model that never trained on its location either. Here every training clip gets its
probabilities from a clone of the fitted model trained on the other folds, the folds grouped by
location (:func:`avsc_sk.fusion.grouped_splits`, the one fold policy). The clones keep the fitted
model's chosen hyper-parameters (:func:`avsc_sk.fusion.fixed_member`: a head's ``C``, and late
fusion's stacker's, is fixed, so no inner search is repeated per fold); everything else the model learns (a stacker, a blend's
weights, a network's weights and its early stopping) is learnt again inside each fold from that
fold's training clips alone, with the fold's own internal folds where the mode has them. That holds
for every mode: audio, video, early, intermediate, late, weighted, segment mode and the mode
``auto`` chose (its refitted winner).
"""

import time
import warnings

import numpy as np
from joblib import Parallel, delayed

from ..errors import CVFallbackWarning
from ..fusion import fixed_member, fold_proba, grouped_splits

__all__ = ["calibration_probabilities"]


def _template(fitted):
    """The fitted estimator whose procedure the folds repeat: ``auto``'s refitted winner, else the model."""
    return getattr(fitted, "best_estimator_", fitted)


def calibration_probabilities(fitted, X, y, groups=None, *, cv=5, random_state=0, cv_groups="auto",
                              n_jobs=None):
    """Out-of-fold probabilities of every training clip, from clones of ``fitted`` on location-grouped folds.

    Parameters
    ----------
    fitted : classifier
        The model fitted on ``X, y`` (any mode; for ``AutoFusionClassifier`` its ``best_estimator_``).
    X : array-like of shape (n_clips, n_features)
        The training clips it was fitted on.
    y : array-like of shape (n_clips,)
    groups : array-like of shape (n_clips,), optional
        Recording locations: no location is ever on both sides of a fold.
    cv : int, default=5
        Folds (fewer, with a warning, when a grouped split cannot keep every class in training).
    random_state : int, default=0
        Seed of the fold assignment.
    cv_groups : {"auto", "location", "none"}, default="auto"
        As everywhere (:func:`avsc_sk.fusion.grouped_splits`).
    n_jobs : int, optional
        Folds fitted at once (processes; ``None`` is 1). The result does not depend on it.

    Returns
    -------
    proba : ndarray of shape (n_clips, n_classes)
        Columns in ``fitted.classes_`` order; row ``i`` from the clone that did not train on clip ``i``.
    info : dict
        ``folds`` (their number), ``grouped`` (False when they fell back to stratified folds that share
        locations), ``fallback`` (why, or None), ``seconds``, ``fold_warnings`` (what the fold fits
        warned of, once each, other than folds sharing locations, which is warned of) and ``splits`` (the test indices of each
        fold, so that a caller can check that no clip was scored by a model that trained on it).
    """
    t0 = time.perf_counter()
    template = _template(fitted)
    estimator = fixed_member(template, template)
    stacker = getattr(template, "final_estimator_", None)
    if stacker is not None and "final_estimator" in estimator.get_params(deep=False):
        # Late fusion's stacker chose its C too (on all training clips, as the members theirs): fixed alike.
        estimator.set_params(final_estimator=fixed_member(stacker, stacker))
    y = np.asarray(y)
    classes = np.asarray(fitted.classes_)
    groups = None if groups is None else np.asarray(groups)
    splits, fallback = grouped_splits(X, y, groups, cv, random_state, cv_groups,
                                      "the prediction sets' calibration folds", return_fallback=True)
    k = len(splits)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts = Parallel(n_jobs=n_jobs)(
            delayed(fold_proba)("calibration", estimator, X, y, tr, te, classes,
                                f"calibration fold {i + 1} of {k}", k, groups)
            for i, (tr, te) in enumerate(splits))
    # Folds that share locations make the calibration optimistic: said, once. What else the fold fits
    # say (an MLP fold not converging on 80% of the clips) concerns the calibration only, not the
    # model: recorded in ``info["fold_warnings"]`` rather than printed beside the model's own warnings.
    said, noted = set(), []
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, CVFallbackWarning):
            if text not in said:
                said.add(text)
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        elif text not in noted:
            noted.append(text)
    proba = np.full((len(y), len(classes)), np.nan)
    for (_, te), P in zip(splits, parts):
        proba[te] = P
    info = {"folds": k, "grouped": fallback is None and groups is not None and cv_groups != "none",
            "fallback": fallback, "seconds": round(time.perf_counter() - t0, 3),
            "fold_warnings": noted, "splits": [np.asarray(te) for _, te in splits]}
    return proba, info
