"""Plot a search: the score against each searched parameter."""

import math
import numbers

import numpy as np

from ..errors import ConfigError
from ._results import _metric_name, _primary, _sign


def _numeric(values):
    return all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)


def plot_search(results, ax=None, *, metric=None):
    """Score against each searched parameter: every candidate as a dot, the best per value as a line.

    Parameters
    ----------
    results : DataFrame
        From :func:`search_results`.
    ax : Axes or array of Axes, optional
        One per searched parameter; a new figure when ``None``.
    metric : str, optional
        Defaults to the ranking metric; negated losses are plotted as the positive loss.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    metric = metric or _primary(results)
    params = [c for c in results.columns if c.startswith("param_")]
    n = max(1, len(params))
    if ax is None:
        cols = min(3, n)
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False, layout="constrained")
        axes = axes.ravel()
        for extra in axes[n:]:
            extra.set_visible(False)
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if len(axes) < n:
            raise ConfigError(f"plot_search needs {n} axes (one per searched parameter), got {len(axes)}")
        fig = axes[0].figure
    s = _sign(metric)
    score = s * results[f"mean_test_{metric}"].to_numpy(dtype=float)
    std = results[f"std_test_{metric}"].to_numpy(dtype=float)
    raw = results.get("params")
    for a, col in zip(axes, params):
        name = col[len("param_"):]
        values = [p.get(name) if isinstance(p, dict) else None for p in raw] if raw is not None else list(results[col])
        present = [v is not None for v in values]
        numeric = _numeric([v for v in values if v is not None])
        if numeric:
            x = np.array([float(v) if v is not None else np.nan for v in values])
            levels = np.unique(x[~np.isnan(x)])
            positive = (levels > 0).all() and len(levels) > 1 and levels.max() / levels.min() >= 10
            if positive:
                a.set_xscale("log")
        else:
            labels = list(dict.fromkeys(results[col]))
            x = np.array([labels.index(v) for v in results[col]], dtype=float)
            levels = np.arange(len(labels))
            a.set_xticks(levels, [lab if len(lab) <= 18 else lab[:17] + "…" for lab in labels],
                         rotation=20 if len(labels) > 2 else 0, ha="right" if len(labels) > 2 else "center")
            a.set_xlim(-0.5, len(labels) - 0.5)  # a value whose candidates all failed keeps its (empty) place
        # Numeric axes leave out the candidates without this parameter (another grid of a list of grids).
        mask = np.array(present, dtype=bool) if numeric else np.ones(len(x), dtype=bool)
        a.errorbar(x[mask], score[mask], yerr=std[mask], fmt="o", ms=3, alpha=0.45, color="C0", elinewidth=0.8)
        pick = np.nanmin if s < 0 else np.nanmax
        line = [(lv, pick(score[mask & (x == lv)])) for lv in levels
                if np.isfinite(score[mask & (x == lv)]).any()]  # failed candidates score NaN
        if line:
            a.plot(*zip(*line), "-", color="C1", lw=1.5, label="best")
        a.set_xlabel(name, fontsize=8)
        a.set_ylabel(f"CV {_metric_name(metric)}")
        a.grid(alpha=0.3)
    return fig
