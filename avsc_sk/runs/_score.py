"""Scoring a fitted model: probabilities in the run's label space, the score line and its warnings."""

import warnings

import numpy as np


def predict_proba_scenes(model, X, *, n_jobs=1):
    """``predict_proba`` as float64, one column per class of ``model.classes_`` (the run's label space).

    ``n_jobs`` > 1 predicts that many chunks of clips at once, in threads (numpy releases the
    GIL while pooling the frames); each clip is predicted on its own, so the result is the same.
    Clips with none of the model's modalities get its training class prior without the
    estimator's warning, which would count them chunk by chunk: the commands name them instead
    (:func:`no_modality_warning`).
    """
    from joblib import Parallel, delayed, effective_n_jobs

    from ..fusion import NoModalityWarning

    n = min(effective_n_jobs(n_jobs), X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoModalityWarning)
        if n > 1:
            bounds = np.linspace(0, X.shape[0], n + 1).astype(int)
            proba = np.vstack(Parallel(n_jobs=n, prefer="threads")(
                delayed(model.predict_proba)(X[a:b]) for a, b in zip(bounds[:-1], bounds[1:])))
        else:
            proba = model.predict_proba(X)
    return np.asarray(proba, dtype=np.float64)


def run_modalities(fusion, modalities):
    """The modalities a run of ``fusion`` reads: that one for a single-modality mode, else all of them."""
    names = [m[0] for m in modalities]
    return [fusion] if fusion in names else names


def no_modality_warning(fusion, modalities, data, *, training=False, missing=None):
    """The warning naming the clips of ``data`` with none of a run's modalities, or None.

    Parameters
    ----------
    fusion : str
        The run's mode (its manifest's ``fusion``).
    modalities : sequence of (name, n_frames, dim)
        The run's modalities.
    data : FeatureSet
    training : bool, default=False
        ``data`` is what the run is trained on: those clips are left out of its fit.
    missing : ndarray, optional
        ``data.missing()``, when the caller has it already (it reads every block once).
    """
    used = [m for m in run_modalities(fusion, modalities) if m in data.modality_names]
    if not used:
        return None
    missing = data.missing() if missing is None else missing
    mask = missing[:, [data.modality_names.index(m) for m in used]].all(axis=1)
    if not mask.any():
        return None
    ids = [str(c) for c in np.asarray(data.clip_ids)[mask]]
    named = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    what = f"{len(ids)} of the {data.n_clips} clips of {data.source or 'the features'} (split {data.split})"
    if training:
        return (f"{what} have none of the modalities {fusion} fusion reads ({', '.join(used)}): {named}; they "
                "were left out of its fit (their scenes still count in its class prior)")
    return (f"{what} have none of the run's modalities ({', '.join(used)}): {named}; each is given the training "
            "class prior (every scene's share of the training clips), not a prediction: predict them with a run "
            "that reads a modality they have")


def score_model(model, data, *, train=None, n_jobs=1):
    """The scores a run records for ``data``: the manifest's ``scores``, as :func:`format_scores` shows them.

    Parameters
    ----------
    model : fitted classifier
    data : FeatureSet
        Labelled clips laid out as the model was trained on.
    train : FeatureSet, optional
        The training clips: ``n_trained_on`` counts those of ``data`` among them.
    n_jobs : int, default=1
        Parallel prediction (see :func:`predict_proba_scenes`).

    Returns
    -------
    dict
        ``split``, ``n_clips``, ``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``log_loss``,
        ``log_loss_ref3`` (and ``n_trained_on`` with ``train``).
    """
    # Both log losses, named as everywhere: log_loss exact (float probabilities), log_loss_ref3 over
    # them rounded as prediction.csv prints them (the reference scoring), so the manifest, demo,
    # compare and report show the same figures for the same predictions.
    from ..evaluation import LOG_LOSS, LOG_LOSS_REF, score

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
    from ..evaluation import unseen_class_warning

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


# How each mode learns from training clips that lack some (not all) of its modalities.
_PARTIAL = {
    "early": "early fusion's joint head learns from the complete clips (or, when they lack a scene, from all, the "
             "absent block imputed), each modality's fallback pipeline from every clip that has it",
    "intermediate": "intermediate fusion feeds the absent block as the mean input (zeros after standardising)",
    "late": "each member learns from the clips that have its modality; the stacker from the clips that have "
            "every modality",
    "weighted": "each member learns from the clips that have its modality; the weights from the clips that "
                "have every modality",
}


def partial_training_warning(fusion, data, missing=None):
    """The warning saying how ``fusion`` learns from training clips that lack some of its modalities, or None.

    ``missing``: ``data.missing()``, when the caller has it already.
    """
    if fusion not in _PARTIAL or data.n_clips == 0:
        return None
    missing = data.missing() if missing is None else missing
    partial = missing.any(axis=1) & ~missing.all(axis=1)
    if not partial.any():
        return None
    per = ", ".join(f"{name} {int(n)}" for name, n in zip(data.modality_names, missing[partial].sum(axis=0)) if n)
    return (f"{int(partial.sum())} of the {data.n_clips} training clips of {data.source or 'the features'} lack a "
            f"modality ({per}): {_PARTIAL[fusion]}")


def partial_summary(data):
    """One line counting the clips of ``data`` that lack a modality, per modality, or None when none does."""
    if data.n_clips == 0:
        return None
    missing = data.missing()
    lacking = missing.any(axis=1)
    if not lacking.any():
        return None
    per = ", ".join(f"{name} {int(n)}" for name, n in zip(data.modality_names, missing.sum(axis=0)) if n)
    return (f"{int(lacking.sum())} of the {data.n_clips} training clips of {data.source or 'the features'} lack a "
            f"modality ({per}); each mode learns from them as the README's 'Training on clips that lack a "
            "modality' says (members and single modalities from the clips that have theirs)")
