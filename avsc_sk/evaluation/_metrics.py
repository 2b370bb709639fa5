"""Scoring as the reference systems did: classification_report, accuracy, overall log loss.

Two log losses are reported side by side, under these names everywhere (manifest, tables, CSV):

``log_loss``
    Exact: from the model's float probabilities, as :func:`sklearn.metrics.log_loss`
    computes it over the 10 scenes.
``log_loss_ref3``
    The reference figure: over the probabilities rounded to 3 decimals, as ``prediction.csv``
    prints them and the reference scoring reads them (clipped and renormalised as it did).
    Rounding costs confident models up to a few hundredths (a true-class 0.0004 is read as 0).
"""

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report

from ..errors import DataError
from ._predictions import classes_of, proba_of

__all__ = ["score", "balanced_accuracy", "format_scoring", "per_class_table", "reference_log_loss", "exact_log_loss",
           "per_clip_log_loss", "per_clip_exact_log_loss", "round_like_file", "unpack_predictions",
           "unseen_class_warning", "LOG_LOSS", "LOG_LOSS_REF"]

#: Clipping bound of the reference log loss (scikit-learn's ``eps`` before 1.5).
EPS = 1e-15
#: Name of the exact log loss (from the float probabilities) in every table and manifest.
LOG_LOSS = "log_loss"
#: Name of the reference log loss (probabilities rounded to 3 decimals, as prediction.csv prints them).
LOG_LOSS_REF = "log_loss_ref3"
#: Decimals of the reference format (``%.3f``).
REF_DECIMALS = 3


def unseen_class_warning(y_true, classes, *, trained="the training split"):
    """A warning naming the scenes of ``y_true`` that a model never saw, or ``None``.

    A scene missing from training gets probability 0 for every clip: each of its clips is
    wrong and costs ``-log(1e-15) = 34.5`` in the log loss, whatever the model learnt.

    Parameters
    ----------
    y_true : array-like of str
        True scenes of the scored clips.
    classes : iterable of str
        The scenes the model was trained on.
    trained : str, default="the training split"
        What the model was trained on, as the message names it.

    Returns
    -------
    str or None
    """
    y = pd.Series(np.asarray(y_true, dtype=object)).astype(str)
    counts = y[~y.isin([str(c) for c in classes])].value_counts()
    if counts.empty:
        return None
    names = ", ".join(f"{scene} ({n} clip{'s' if n != 1 else ''})" for scene, n in sorted(counts.items()))
    return (f"{trained} has no clips of {len(counts)} scene(s) that the scored clips hold: {names}; the model "
            f"gives them probability 0, so those {int(counts.sum())} clips are always wrong and each adds "
            f"{-np.log(EPS):.1f} to the log loss; train on a split with every scene")


def round_like_file(proba, decimals=3):
    """Round probabilities exactly as ``"%.{decimals}f"`` prints them.

    ``np.round`` agrees with printf except on values within float error of a tie
    (e.g. ``0.0005``); only those few are formatted as text, so this stays fast.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if decimals is None:
        return proba
    scale = 10.0 ** int(decimals)
    scaled = proba * scale
    out = np.round(scaled) / scale
    near_tie = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    if near_tie.any():
        out[near_tie] = np.char.mod(f"%.{int(decimals)}f", proba[near_tie]).astype(np.float64)
    return out


def _indices(y, labels, what="y_true"):
    y = np.asarray(y)
    if y.dtype.kind in "iu":
        if y.size and (y.min() < 0 or y.max() >= len(labels)):
            raise DataError(f"{what} holds label index {int(y.max())} outside 0..{len(labels) - 1}")
        return y.astype(np.intp)
    lookup = {s: i for i, s in enumerate(labels)}
    out = np.empty(len(y), dtype=np.intp)
    for i, v in enumerate(y):
        v = str(v)
        if v not in lookup:
            raise DataError(f"{what} holds {v!r}, which is not one of the classes {', '.join(labels)}")
        out[i] = lookup[v]
    return out


def unpack_predictions(y_true, proba, classes=None):
    """Turn ``(y_true, proba)`` into label indices, a probability array and the labels scored.

    Parameters
    ----------
    y_true : array-like of str or int, or None
        True labels (names, or indices into ``classes``). ``None`` takes them from the
        ``scene_label`` column of a prediction frame.
    proba : DataFrame or array-like of shape (n_clips, n_classes)
        A prediction frame (its ``scene_pred`` column is the prediction, as in the
        reference scoring; its class columns name the classes) or probabilities whose
        columns are ``classes`` (prediction = argmax).
    classes : sequence of str, optional
        The classes of the columns of an array ``proba``; by default the sorted labels of
        ``y_true``, as scikit-learn's ``log_loss`` infers them.

    Returns
    -------
    y_true_idx, y_pred_idx : ndarray of int
        Indices into ``labels``.
    P : ndarray of shape (n_clips, n_labels)
    labels : list of str
        The classes, then any label of ``y_true`` that no column holds (a class the model
        never saw: its column in ``P`` is 0).
    """
    if isinstance(proba, pd.DataFrame):
        classes = classes_of(proba)
        P = proba_of(proba)
        if y_true is None:
            if "scene_label" not in proba:
                raise DataError("the predictions have no scene_label column; pass the true labels "
                                "(e.g. --label fold1_evaluate.csv)")
            y_true = proba["scene_label"].to_numpy()
        y_pred = proba["scene_pred"].to_numpy() if "scene_pred" in proba else None
    else:
        P = np.asarray(proba, dtype=np.float64)
        if y_true is None:
            raise DataError("y_true is required when proba is an array")
        if classes is None:
            if np.asarray(y_true).dtype.kind in "iu":
                classes = [str(i) for i in range(P.shape[1] if P.ndim == 2 else 0)]
            else:
                classes = sorted(set(map(str, np.asarray(y_true, dtype=object).tolist())))
        if P.ndim != 2 or P.shape[1] != len(classes):
            raise DataError(f"probabilities of shape {P.shape}; expected (n_clips, {len(classes)}), one column per "
                            f"class of {', '.join(map(str, classes))} (pass classes= for other columns)")
        y_pred = None
    labels = [str(c) for c in classes]
    y_arr = np.asarray(y_true)
    if y_arr.dtype.kind not in "iu":
        unseen = sorted(set(map(str, np.asarray(y_true, dtype=object).tolist())) - set(labels))
        if unseen:
            labels = labels + unseen
            P = np.hstack([P, np.zeros((len(P), len(unseen)))])
    y_pred = np.argmax(P, axis=1) if y_pred is None else _indices(y_pred, labels, "scene_pred")
    t = _indices(y_true, labels)
    if len(t) != len(P):
        raise DataError(f"{len(t)} labels for {len(P)} predictions; they must describe the same clips")
    if len(t) == 0:
        raise DataError("no predictions to score; expected at least one clip")
    return t, y_pred, P, labels


def balanced_accuracy(y_true_idx, y_pred_idx):
    """Mean recall over the classes ``y_true_idx`` holds (scikit-learn's ``balanced_accuracy_score``).

    Imbalanced label sets make plain accuracy mostly the largest classes' recall; this
    weighs every class present alike.
    """
    t, p = np.asarray(y_true_idx), np.asarray(y_pred_idx)
    return float(np.mean([np.mean(p[t == c] == c) for c in np.unique(t)]))


def per_clip_log_loss(y_true_idx, P, *, decimals=3, eps=EPS):
    """Per-clip cross-entropy, computed as the reference did (see :func:`reference_log_loss`)."""
    P = round_like_file(P, decimals)
    P = np.clip(P, eps, 1 - eps)
    P = P / P.sum(axis=1, keepdims=True)
    return -np.log(P[np.arange(len(P)), y_true_idx])


def per_clip_exact_log_loss(y_true_idx, P):
    """Per-clip ``-log p(true class)`` of float probabilities, clipped as :func:`sklearn.metrics.log_loss` clips.

    Its mean is ``log_loss(y_true, P, labels=classes)`` (no rounding, no renormalisation;
    probabilities are clipped to ``[eps, 1 - eps]`` with ``eps`` the float64 machine epsilon).
    """
    P = np.asarray(P, dtype=np.float64)
    eps = np.finfo(np.float64).eps
    return -np.log(np.clip(P[np.arange(len(P)), y_true_idx], eps, 1 - eps))


def exact_log_loss(y_true, proba, *, classes=None):
    """The exact log loss (``log_loss``): over the float probabilities, as scikit-learn computes it.

    Parameters
    ----------
    y_true : array-like of str or int, or None
        True labels; ``None`` reads the ``scene_label`` column of a prediction frame.
    proba : DataFrame or array-like of shape (n_clips, n_classes)
        A prediction frame or probabilities whose columns are ``classes``. A frame read from
        a file holds the probabilities as printed, so this is then the file's-precision log loss.
    classes : sequence of str, optional
        The columns of an array ``proba`` (default: the sorted labels of ``y_true``).

    Returns
    -------
    float
    """
    t, _, P, _ = unpack_predictions(y_true, proba, classes)
    return float(per_clip_exact_log_loss(t, P).mean())


def reference_log_loss(y_true, proba, *, decimals=3, eps=EPS, classes=None):
    """Overall log loss over the printed probabilities, as the reference scoring computed it.

    The reference wrote probabilities with ``%.3f`` and called scikit-learn's
    ``log_loss`` on what it read back. scikit-learn of that time clipped to
    ``[eps, 1 - eps]`` with ``eps=1e-15`` and then renormalised each row to sum to 1;
    scikit-learn >= 1.5 no longer renormalises (it warns), so this function does
    those steps itself: round to ``decimals`` exactly as ``%.3f`` prints, clip,
    renormalise, average ``-log p(true class)``. ``decimals=None`` skips the rounding.
    ``classes`` names the columns of an array ``proba`` (see :func:`unpack_predictions`).
    """
    t, _, P, _ = unpack_predictions(y_true, proba, classes)
    return float(per_clip_log_loss(t, P, decimals=decimals, eps=eps).mean())


def score(y_true, proba, *, decimals=3, classes=None):
    """Score predictions as the reference did, with the exact log loss beside the reference one.

    Parameters
    ----------
    y_true : array-like of str or int, or None
        True labels; ``None`` reads the ``scene_label`` column of a prediction frame.
    proba : DataFrame or array-like of shape (n_clips, n_classes)
        A prediction frame or probabilities whose columns are ``classes``.
    decimals : int or None, default=3
        Probabilities are rounded to this many decimals before ``log_loss_ref3``, as in a
        printed ``prediction.csv`` (a no-op on probabilities read from one).
    classes : sequence of str, optional
        The columns of an array ``proba`` (default: the sorted labels of ``y_true``).

    Returns
    -------
    dict
        ``classification_report(output_dict=True)`` over the classes and any label the
        model never saw (keys: each class, ``accuracy``, ``macro avg``, ``weighted avg``)
        plus ``balanced_accuracy`` (mean recall over the labels present), ``log_loss``
        (exact, from the float probabilities), ``log_loss_ref3`` (the reference figure,
        rounded as printed), ``n_clips`` and ``classes`` (the labels scored, in order).
    """
    t, p, P, labels = unpack_predictions(y_true, proba, classes)
    names = np.asarray(labels, dtype=object)
    out = classification_report(names[t], names[p], labels=labels, output_dict=True, zero_division=0)
    out = {k: ({m: float(x) for m, x in v.items()} if isinstance(v, dict) else float(v)) for k, v in out.items()}
    for k, v in out.items():
        if isinstance(v, dict):
            v["support"] = int(v["support"])
    out["balanced_accuracy"] = balanced_accuracy(t, p)
    out[LOG_LOSS] = float(per_clip_exact_log_loss(t, P).mean())
    out[LOG_LOSS_REF] = float(per_clip_log_loss(t, P, decimals=decimals).mean())
    out["n_clips"] = int(len(t))
    out["classes"] = labels
    return out


def format_scoring(y_true, proba, *, digits=2, decimals=3, classes=None):
    """The reference scoring output as text.

    ``classification_report`` over the classes (``digits=2``, scikit-learn's default,
    which the reference used), a line of two spaces, then ``accuracy: 0.xxx`` and
    ``overall log loss: 0.xxx`` (see :func:`reference_log_loss`). Print it with
    ``print(text, end="")``. With the default ``decimals=3`` that log loss is
    ``log_loss_ref3``; ``decimals=None`` takes the probabilities as they are (a prediction
    file read back: its own precision, as the reference scorer read it).
    """
    t, p, P, labels = unpack_predictions(y_true, proba, classes)
    names = np.asarray(labels, dtype=object)
    report = classification_report(names[t], names[p], labels=labels, digits=digits, zero_division=0)
    acc = float(np.mean(t == p))
    loss = float(per_clip_log_loss(t, P, decimals=decimals).mean())
    return f"{report}\n  \naccuracy: {acc:.3f}\noverall log loss: {loss:.3f}\n"


def per_class_table(y_true, proba, *, decimals=3, classes=None):
    """The scoring output as a DataFrame, in the reference layout.

    Rows: the classes, ``accuracy``, ``macro avg``, ``weighted avg``, ``overall log loss``
    (the reference figure, ``log_loss_ref3``); columns ``precision, recall, f1-score, support``. As in
    the text report, the ``accuracy`` and ``overall log loss`` values sit in the
    ``f1-score`` column (precision and recall are NaN there) and ``support`` is the
    number of clips.
    """
    s = score(y_true, proba, decimals=decimals, classes=classes)
    rows, index = [], []
    for key in (*s["classes"], "accuracy", "macro avg", "weighted avg", "overall log loss"):
        if key == "accuracy":
            rows.append((np.nan, np.nan, s["accuracy"], s["n_clips"]))
        elif key == "overall log loss":
            rows.append((np.nan, np.nan, s[LOG_LOSS_REF], s["n_clips"]))
        else:
            v = s[key]
            rows.append((v["precision"], v["recall"], v["f1-score"], v["support"]))
        index.append(key)
    table = pd.DataFrame(rows, index=pd.Index(index, name="label"),
                         columns=["precision", "recall", "f1-score", "support"])
    table["support"] = table["support"].astype(int)
    return table
