"""Split-conformal prediction sets: per-clip sets of scenes that hold the true one with a chosen probability.

The nonconformity score of a clip is ``1 - p(true class)`` (the LAC score of Sadinle, Lei and
Wasserman, 2019: the smallest mean set size among sets built from one probability model). Given
the scores ``s_1 .. s_n`` of clips the model did not train on (the calibration clips), the set of a
new clip at coverage ``1 - alpha`` holds every class ``k`` with ``1 - p_k <= q``, where ``q`` is the
``ceil((n + 1)(1 - alpha))``-th smallest score; when the new clip is exchangeable with the
calibration clips, the set holds its true class with probability at least ``1 - alpha``. The
class-conditional (Mondrian) variant takes ``q_k`` from the scores of the calibration clips of
class ``k`` only, so that the guarantee holds for every class separately.

Everything here is plain numpy on probabilities and labels; where the calibration probabilities
come from (grouped out-of-fold fits of the training clips) is
:func:`avsc_sk.experiments.calibration_probabilities`.
"""

import math

import numpy as np

from ..errors import ConfigError, DataError

__all__ = ["COVERAGE_BY", "SET_SEPARATOR", "calibration_record", "check_coverage", "check_coverage_by",
           "conformal_quantile", "coverage_table", "format_sets", "nonconformity", "parse_sets",
           "prediction_sets", "set_sizes"]

#: How ``--coverage-by`` may pool the calibration scores: over every clip, or per class (Mondrian).
COVERAGE_BY = ("all", "class")
#: Joins the scenes of a set in the ``prediction_set`` column.
SET_SEPARATOR = "|"


def check_coverage(coverage):
    """``coverage`` as a float strictly between 0 and 1, or a ConfigError naming it."""
    try:
        value = float(coverage)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(coverage, bool) or not 0.0 < value < 1.0:
        raise ConfigError(f"coverage {coverage!r}: expected a probability strictly between 0 and 1, "
                          "e.g. --coverage 0.9 (sets that hold the true scene for 90% of clips)")
    return value


def check_coverage_by(by):
    """``by`` if it is one of :data:`COVERAGE_BY`, else a ConfigError naming the choices."""
    if by not in COVERAGE_BY:
        raise ConfigError(f"coverage-by {by!r}: expected 'all' (one threshold from every calibration clip) or "
                          "'class' (Mondrian: one threshold per class, coverage guaranteed for each class)")
    return by


def nonconformity(proba, y_index):
    """``1 - p(true class)`` of each clip: the LAC nonconformity score."""
    proba = np.asarray(proba, dtype=np.float64)
    return 1.0 - proba[np.arange(len(proba)), np.asarray(y_index)]


def conformal_quantile(scores, coverage):
    """The split-conformal threshold: the ``ceil((n + 1) * coverage)``-th smallest score (``inf`` if past ``n``).

    ``inf`` means too few calibration scores for that coverage (every class then enters the set),
    which keeps the guarantee rather than pretending to a threshold the data cannot give.
    """
    scores = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(scores)
    # A hair under the product keeps float error (0.9 * 100 = 90.00000000000001) from adding a rank.
    rank = math.ceil((n + 1) * float(coverage) - 1e-9)
    return float(scores[rank - 1]) if 1 <= rank <= n else float("inf")


def calibration_record(proba, y, classes, *, method="grouped out-of-fold", **info):
    """The JSON-ready calibration a run stores: per class, the sorted nonconformity scores of its clips.

    Parameters
    ----------
    proba : ndarray of shape (n_clips, n_classes)
        Probabilities of the calibration clips from models that did not train on them.
    y : array-like of shape (n_clips,)
        Their true classes.
    classes : sequence
        Column order of ``proba``.
    method : str
        How ``proba`` were obtained (recorded).
    **info
        Recorded as they are (folds, grouping, seconds).

    Returns
    -------
    dict
        ``{"score": "lac", "method": ..., "n_clips": n, "scores": {class: [sorted floats]}, **info}``
        (scores rounded to 6 decimals: a threshold moves by at most 5e-7).
    """
    classes = [str(c) for c in classes]
    y = np.asarray([str(v) for v in y], dtype=object)
    index = {c: k for k, c in enumerate(classes)}
    unknown = sorted(set(y) - set(classes))
    if unknown:
        raise DataError(f"calibration labels {unknown[:3]} are not among the classes {classes}")
    s = nonconformity(proba, [index[v] for v in y])
    scores = {c: np.round(np.sort(s[y == c]), 6).tolist() for c in classes}
    return {"score": "lac", "method": method, "n_clips": int(len(y)), **info, "scores": scores}


def _thresholds(calibration, classes, coverage, by):
    scores = calibration["scores"]
    missing = [c for c in classes if c not in scores]
    if missing:
        raise DataError(f"the run's calibration has no scores for {missing}; re-fit the run")
    if by == "class":
        return np.array([conformal_quantile(scores[c], coverage) for c in classes])
    pooled = np.concatenate([np.asarray(scores[c], dtype=np.float64) for c in classes])
    return np.full(len(classes), conformal_quantile(pooled, coverage))


def prediction_sets(proba, classes, calibration, coverage, *, by="all", non_empty=False):
    """Each clip's prediction set at ``coverage``: its classes, most probable first.

    Parameters
    ----------
    proba : ndarray of shape (n_clips, n_classes)
        The model's probabilities, columns in ``classes`` order.
    classes : sequence of str
    calibration : dict
        A :func:`calibration_record`.
    coverage : float
        Strictly between 0 and 1.
    by : {"all", "class"}, default="all"
        One threshold from every calibration clip, or one per class (Mondrian).
    non_empty : bool, default=False
        Give a clip whose every class is past the threshold its most probable class instead of an
        empty set. The exact split-conformal sets (the default) cover within ``1/(n + 1)`` above
        ``coverage`` on exchangeable data; non-empty sets can only cover more, and a model more
        accurate than ``coverage`` then covers as often as it is right, whatever ``coverage`` asked.

    Returns
    -------
    list of list of str
        An empty set says the clip looks like none of the scenes as sure as calibration demands:
        for the user, a clip to check by hand.
    """
    coverage = check_coverage(coverage)
    by = check_coverage_by(by)
    classes = [str(c) for c in classes]
    P = np.asarray(proba, dtype=np.float64)
    q = _thresholds(calibration, classes, coverage, by)
    # Compared in the stored scores' precision (6 decimals), so the set does not hinge on rounding.
    inside = np.round(1.0 - P, 6) <= q[None, :]
    order = np.argsort(-P, axis=1, kind="stable")
    names = np.asarray(classes, dtype=object)
    out = []
    for i in range(len(P)):
        row = order[i][inside[i, order[i]]]
        out.append([names[order[i, 0]]] if non_empty and not len(row) else list(names[row]))
    return out


def format_sets(sets):
    """Sets as the ``prediction_set`` column's text: scenes joined by ``|``."""
    return [SET_SEPARATOR.join(s) for s in sets]


def parse_sets(column):
    """The ``prediction_set`` column's text back as lists of scenes."""
    return [[c for c in str(text).split(SET_SEPARATOR) if c] for text in column]


def set_sizes(sets):
    """The number of scenes in each set."""
    return np.array([len(s) for s in sets], dtype=int)


def coverage_table(y_true, sets, classes=None):
    """Empirical coverage and set size, overall and per true class.

    Parameters
    ----------
    y_true : array-like of str
    sets : list of list of str
    classes : sequence of str, optional
        Rows, in order (default: the labels' sorted classes); then ``all``.

    Returns
    -------
    DataFrame
        Index ``scene`` (each class, then ``all``); columns ``n_clips``, ``coverage`` (share of clips
        whose set holds the true scene), ``mean_size``, ``median_size``, ``share_singleton``, ``share_empty``.
    """
    import pandas as pd

    y = np.asarray([str(v) for v in y_true], dtype=object)
    hit = np.array([t in s for t, s in zip(y, sets)], dtype=bool)
    size = set_sizes(sets)
    classes = sorted(set(y)) if classes is None else [str(c) for c in classes]
    rows = []
    for scene in [*classes, None]:
        m = np.ones(len(y), bool) if scene is None else y == scene
        n = int(m.sum())
        rows.append({"scene": "all" if scene is None else scene, "n_clips": n,
                     "coverage": float(hit[m].mean()) if n else np.nan,
                     "mean_size": float(size[m].mean()) if n else np.nan,
                     "median_size": float(np.median(size[m])) if n else np.nan,
                     "share_singleton": float((size[m] == 1).mean()) if n else np.nan,
                     "share_empty": float((size[m] == 0).mean()) if n else np.nan})
    return pd.DataFrame(rows).set_index("scene")
