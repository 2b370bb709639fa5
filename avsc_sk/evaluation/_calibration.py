"""Calibration of the top-class probability: reliability table and expected calibration error."""

import numpy as np
import pandas as pd

from ..errors import DataError
from ._metrics import unpack_predictions

__all__ = ["reliability_table", "expected_calibration_error", "brier_score"]


def reliability_table(y_true, proba, *, n_bins=15):
    """Confidence against accuracy in equal-width bins of the top-class probability.

    Parameters
    ----------
    y_true : array-like or None
        True scenes (``None``: the ``scene_label`` column of a prediction frame).
    proba : DataFrame or array-like of shape (n_clips, 10)
        A prediction frame or probabilities, one column per class (sorted labels of ``y_true``). Confidence is the
        largest probability of a clip; it is "right" when the predicted scene is true.
    n_bins : int, default=15
        Bins ``(0, 1/n], (1/n, 2/n], ..., ((n-1)/n, 1]`` (a confidence of 0 joins the first).

    Returns
    -------
    DataFrame
        One row per bin: ``bin_lower, bin_upper, count, confidence`` (mean),
        ``accuracy``, ``gap`` (= accuracy - confidence); NaN means in empty bins.
    """
    if int(n_bins) < 1:
        raise DataError(f"n_bins={n_bins}; expected a positive number of bins")
    n_bins = int(n_bins)
    t, p, P, _ = unpack_predictions(y_true, proba)
    conf = P.max(axis=1)
    correct = (t == p).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, weights=conf, minlength=n_bins) / count
        acc = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return pd.DataFrame({"bin_lower": edges[:-1], "bin_upper": edges[1:], "count": count,
                         "confidence": mean_conf, "accuracy": acc, "gap": acc - mean_conf})


def expected_calibration_error(y_true, proba, *, n_bins=15):
    """Expected calibration error: the count-weighted mean of ``|accuracy - confidence|`` over bins.

    See :func:`reliability_table` for the bins (Guo et al., 2017, with 15 equal-width bins).
    """
    table = reliability_table(y_true, proba, n_bins=n_bins)
    used = table["count"] > 0
    w = table.loc[used, "count"] / table["count"].sum()
    return float((w * table.loc[used, "gap"].abs()).sum())


def brier_score(y_true, proba):
    """Multi-class Brier score: mean over clips of the squared distance to the one-hot truth."""
    t, _, P, _ = unpack_predictions(y_true, proba)
    onehot = np.eye(P.shape[1])[t]
    return float(np.mean(np.sum((P - onehot) ** 2, axis=1)))
