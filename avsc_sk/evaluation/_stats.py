"""Uncertainty of scores: clip-level bootstrap, paired bootstrap between runs, McNemar's test.

Every bootstrap here resamples clips with replacement and draws the same resamples
for every metric and run (one weight matrix ``W``: how often each clip is drawn in
each resample), so paired comparisons are paired and all metrics come from a few
matrix products instead of a Python loop over resamples.
"""

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError
from ._metrics import LOG_LOSS, LOG_LOSS_REF, per_clip_exact_log_loss, per_clip_log_loss, unpack_predictions

__all__ = ["bootstrap_ci", "paired_bootstrap_diff", "mcnemar", "bootstrap_weights", "holm"]

_PER_CLASS = ("precision", "recall", "f1-score")
_OVERALL = ("accuracy", LOG_LOSS, LOG_LOSS_REF, "macro_f1")


def bootstrap_weights(n, n_boot=1000, seed=0):
    """Resampling counts ``W`` of shape ``(n_boot, n)``: ``W[b, i]`` = times clip ``i`` is drawn in resample ``b``."""
    if n < 1:
        raise DataError("cannot bootstrap zero clips")
    if n_boot < 1:
        raise DataError(f"n_boot={n_boot}; expected a positive number of resamples")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    flat = idx + (np.arange(n_boot) * n)[:, None]
    return np.bincount(flat.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(np.float64)


def _safe_div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)  # zero_division=0, as scikit-learn's report


def _losses(t, P, decimals):
    """Per-clip losses of both log losses: exact, and over the probabilities rounded as printed."""
    return {LOG_LOSS: per_clip_exact_log_loss(t, P), LOG_LOSS_REF: per_clip_log_loss(t, P, decimals=decimals)}


def _resampled(W, t, p, losses, K):
    """Every metric for every resample: dict name -> array (n_boot,) or (n_boot, K)."""
    onehot_t = np.eye(K)[t]
    onehot_p = np.eye(K)[p]
    correct = (t == p).astype(np.float64)
    n = W.sum(axis=1)
    support = W @ onehot_t
    predicted = W @ onehot_p
    tp = W @ (onehot_t * correct[:, None])
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    f1 = _safe_div(2 * tp, support + predicted)
    return {
        "precision": precision, "recall": recall, "f1-score": f1,
        "accuracy": (W @ correct) / n,
        **{name: (W @ per_clip) / n for name, per_clip in losses.items()},
        # over all K classes (an absent one counts 0), as classification_report(labels=classes) does
        "macro_f1": f1.mean(axis=1),
    }


def _point(t, p, losses, K):
    return {k: v[0] for k, v in _resampled(np.ones((1, len(t))), t, p, losses, K).items()}


def _interval(samples, alpha):
    lo, hi = np.nanpercentile(samples, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=0)
    return lo, hi


def bootstrap_ci(y_true, proba, metric="accuracy", *, n_boot=1000, seed=0, alpha=0.05, decimals=3, classes=None):
    """Percentile bootstrap confidence interval of a score, resampling clips.

    Parameters
    ----------
    y_true : array-like of str or int, or None
        True labels (``None``: the ``scene_label`` column of a prediction frame).
    proba : DataFrame or array-like of shape (n_clips, n_classes)
        A prediction frame or probabilities whose columns are ``classes``.
    metric : {"accuracy", "log_loss", "log_loss_ref3", "macro_f1"} or callable, default="accuracy"
        ``log_loss`` is exact (float probabilities), ``log_loss_ref3`` the reference one
        (rounded to ``decimals`` as printed; see :func:`~avsc_sk.evaluation.reference_log_loss`).
        A callable gets ``(y_true_idx, y_pred_idx, proba)`` of one resample and returns
        a float; it runs in a Python loop (slow), the named metrics are vectorised.
    n_boot : int, default=1000
    seed : int, default=0
    alpha : float, default=0.05
        The interval covers ``1 - alpha``.
    decimals : int or None, default=3
        Rounding of probabilities before ``log_loss_ref3``.
    classes : sequence of str, optional
        The columns of an array ``proba`` (default: the sorted labels of ``y_true``).

    Returns
    -------
    dict
        ``metric, estimate, low, high, std, alpha, n_boot, n_clips``.
    """
    t, p, P, labels = unpack_predictions(y_true, proba, classes)
    if callable(metric):
        rng = np.random.default_rng(seed)
        estimate = float(metric(t, p, P))
        samples = np.empty(n_boot)
        for b in range(n_boot):
            i = rng.integers(0, len(t), size=len(t))
            samples[b] = metric(t[i], p[i], P[i])
        name = getattr(metric, "__name__", "metric")
    else:
        if metric not in _OVERALL:
            raise DataError(f"unknown metric {metric!r}; expected one of {', '.join(_OVERALL)} or a callable")
        losses = _losses(t, P, decimals)
        W = bootstrap_weights(len(t), n_boot, seed)
        samples = _resampled(W, t, p, losses, len(labels))[metric]
        estimate = float(_point(t, p, losses, len(labels))[metric])
        name = metric
    lo, hi = _interval(samples, alpha)
    return {"metric": name, "estimate": estimate, "low": float(lo), "high": float(hi),
            "std": float(np.std(samples, ddof=1)) if n_boot > 1 else 0.0,
            "alpha": float(alpha), "n_boot": int(n_boot), "n_clips": int(len(t))}


def paired_bootstrap_diff(y_true, proba_a, proba_b, *, n_boot=1000, seed=0, alpha=0.05, decimals=3, classes=None):
    """Differences between two runs on the same clips, with paired bootstrap intervals.

    Both runs are scored on the same resamples of clips, so the interval reflects the
    variability of the difference itself.

    Parameters
    ----------
    y_true : array-like or None
        True labels (``None``: the ``scene_label`` column of ``proba_a``).
    proba_a, proba_b : DataFrame or array-like of shape (n_clips, n_classes)
        Predictions of the two runs, rows in the same clip order (a class only one of
        them knows counts probability 0 for the other).
    n_boot, seed, alpha, decimals, classes
        As in :func:`bootstrap_ci` (``classes`` names the columns of both arrays).

    Returns
    -------
    DataFrame
        One row per (scene, metric) for precision, recall and F1 of each class, then
        rows with scene ``"all"`` for accuracy, log_loss, log_loss_ref3 and macro_f1. Columns:
        ``scene, metric, a, b, diff (= a - b), low, high, p_value, significant``.
        ``p_value`` is the two-sided bootstrap p-value ``2 * min(P(d <= 0), P(d >= 0))``;
        ``significant`` means the ``1 - alpha`` interval excludes 0.
    """
    if y_true is None and isinstance(proba_a, pd.DataFrame):
        y_true = proba_a["scene_label"].to_numpy()
    t, pa, Pa, labels = unpack_predictions(y_true, proba_a, classes)
    t2, pb, Pb, labels_b = unpack_predictions(y_true, proba_b, classes)
    if len(pa) != len(pb):
        raise DataError(f"the runs hold {len(pa)} and {len(pb)} clips; compare runs on the same clips")
    if labels_b != labels:  # one label space for both: a's classes, then those only b knows
        labels = labels + [c for c in labels_b if c not in labels]
        Pa, (pb, Pb) = _on_labels(Pa, labels), _relabel(pb, Pb, labels_b, labels)
        t = np.asarray([labels.index(labels_b[i]) for i in t2])
    K = len(labels)
    la, lb = _losses(t, Pa, decimals), _losses(t, Pb, decimals)
    W = bootstrap_weights(len(t), n_boot, seed)
    ra, rb = _resampled(W, t, pa, la, K), _resampled(W, t, pb, lb, K)
    xa, xb = _point(t, pa, la, K), _point(t, pb, lb, K)
    rows = []

    def add(scene, metric, a, b, d):
        lo, hi = _interval(d, alpha)
        p = min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0)))
        rows.append((scene, metric, float(a), float(b), float(a - b), float(lo), float(hi), float(p),
                     bool(lo > 0 or hi < 0)))

    for k, scene in enumerate(labels):
        for metric in _PER_CLASS:
            add(scene, metric, xa[metric][k], xb[metric][k], ra[metric][:, k] - rb[metric][:, k])
    for metric in _OVERALL:
        add("all", metric, xa[metric], xb[metric], ra[metric] - rb[metric])
    return pd.DataFrame(rows, columns=["scene", "metric", "a", "b", "diff", "low", "high", "p_value", "significant"])


def _on_labels(P, labels):
    """``P`` widened with zero columns up to ``len(labels)`` (its columns are the first labels)."""
    return np.hstack([P, np.zeros((len(P), len(labels) - P.shape[1]))])


def _relabel(p, P, own, labels):
    """Predicted indices and probabilities over ``own`` labels, re-expressed over ``labels``."""
    order = [own.index(c) if c in own else -1 for c in labels]
    out = np.zeros((len(P), len(labels)))
    for k, j in enumerate(order):
        if j >= 0:
            out[:, k] = P[:, j]
    return np.asarray([labels.index(own[i]) for i in p]), out


def holm(p_values):
    """Holm's step-down adjustment of p-values tested together.

    Comparing ten scenes at once finds some "significant" difference by chance far more
    often than the level of one test; Holm's adjustment keeps the chance of any false
    marker at most ``alpha`` (family-wise), without assuming the tests independent.

    Parameters
    ----------
    p_values : array-like of float
        One p-value per test of the family.

    Returns
    -------
    ndarray
        Adjusted p-values, in the input order: a test is significant at level ``alpha``
        when its adjusted p-value is below ``alpha``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def mcnemar(correct_a, correct_b, *, exact=None):
    """McNemar's test of two classifiers on the same clips.

    Parameters
    ----------
    correct_a, correct_b : array-like of bool
        Whether each run got each clip right.
    exact : bool, optional
        Exact binomial test on the discordant pairs (``True``) or the chi-squared
        statistic with continuity correction (``False``). By default exact when
        fewer than 25 clips are discordant, where the chi-squared approximation is poor.

    Returns
    -------
    dict
        ``statistic`` (the smaller discordant count for the exact test, chi-squared
        otherwise), ``p_value`` (two-sided), ``n_a_only`` (clips only A got right),
        ``n_b_only``, ``method`` (``"exact"`` or ``"chi2"``).
    """
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise DataError(f"correct_a has {a.size} clips and correct_b {b.size}; test runs on the same clips")
    n10 = int(np.sum(a & ~b))
    n01 = int(np.sum(~a & b))
    n = n10 + n01
    if exact is None:
        exact = n < 25
    if n == 0:
        statistic, p = 0.0, 1.0
    elif exact:
        statistic = float(min(n10, n01))
        p = float(min(1.0, 2 * stats.binom.cdf(min(n10, n01), n, 0.5)))
    else:
        statistic = float((abs(n10 - n01) - 1) ** 2 / n)
        p = float(stats.chi2.sf(statistic, 1))
    return {"statistic": statistic, "p_value": p, "n_a_only": n10, "n_b_only": n01,
            "method": "exact" if exact else "chi2"}
