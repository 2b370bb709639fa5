"""A finished (or interrupted) search's results: the table, its Markdown and the best configuration."""

import json

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from ._grid import _label, plain_value
from ._search import neg_log_loss_scorer


def _results_dict(search):
    results = getattr(search, "cv_results_", None)
    if results is None:
        results = getattr(search, "partial_results_", None)
    if results is None:
        raise DataError("the search has no finished candidates yet; run it with run_search")
    return results


def search_results(search):
    """``cv_results_`` (or the finished part of an interrupted search) as a DataFrame.

    ``param_*`` columns hold readable labels (``PCA(n_components=64)``); the row order is the
    candidates' order; ``params`` holds the raw dicts.
    """
    results = _results_dict(search)
    df = pd.DataFrame({k: (list(v) if isinstance(v, np.ma.MaskedArray) else v) for k, v in results.items()})
    for col in [c for c in df.columns if c.startswith("param_")]:
        df[col] = [_label(v) if v is not np.ma.masked else "" for v in results[col]]
    if "mean_test_score" in df:  # single-metric (halving): name the column after its metric
        name = "neg_log_loss" if search.scoring is neg_log_loss_scorer else str(search.scoring or "score")
        df = df.rename(columns={c: c.replace("_test_score", f"_test_{name}") for c in df.columns})
    metric = _primary(df)
    if metric and f"rank_test_{metric}" not in df:
        df[f"rank_test_{metric}"] = df[f"mean_test_{metric}"].rank(ascending=False, method="min").astype(int)
    plan = getattr(search.cv, "plan_", None)
    if plan is not None:  # which folds these scores come from, on every row of cv_results.csv
        df["cv_folds"] = plan.describe()
        df["cv_n_splits"] = plan.n_splits
        df["cv_missing_from_training"] = ", ".join(map(str, plan.missing_from_training)) or "none"
    df.attrs["metric"] = metric
    return df


def _primary(df):
    metric = df.attrs.get("metric")
    if metric:
        return metric
    means = [c[len("mean_test_"):] for c in df.columns if c.startswith("mean_test_")]
    if "neg_log_loss" in means:
        return "neg_log_loss"
    return means[0] if means else None


def _metric_name(metric):
    return {"score": "score"}.get(metric, metric.removeprefix("neg_"))


def _sign(metric):
    return -1.0 if metric.startswith("neg_") else 1.0


def results_table(results, top=10, metric=None):
    """A Markdown table of the ``top`` candidates, best first, with mean ± std over the folds.

    Negated metrics (``neg_log_loss``) are shown as the positive loss.
    """
    metric = metric or _primary(results)
    if "iter" in results:  # successive halving: the last round (most clips) first, as it picks the best
        ranked = results.sort_values(["iter", f"mean_test_{metric}"], ascending=[False, False]).head(top)
    else:
        ranked = results.sort_values([f"rank_test_{metric}", f"mean_test_{metric}"],
                                     ascending=[True, False]).head(top)
    params = [c for c in results.columns if c.startswith("param_")]
    params += [c for c in ("iter", "n_resources") if c in results]
    metrics = [metric] + [m[len("mean_test_"):] for m in results.columns
                          if m.startswith("mean_test_") and m != f"mean_test_{metric}"]
    head = ["rank"] + [p.removeprefix("param_") for p in params] + [_metric_name(m) for m in metrics] + ["fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, row in ranked.iterrows():
        cells = [str(int(row[f"rank_test_{metric}"]))] + [str(row[p]).replace("|", "\\|") for p in params]
        for m in metrics:
            s = _sign(m)
            cells.append(f"{s * row[f'mean_test_{m}']:.4f} ± {row[f'std_test_{m}']:.4f}")
        cells.append(f"{row['mean_fit_time']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def best_config(config, search):
    """The fit configuration of the best candidate: ``config`` with its parameters in ``[params]``.

    ``avsc-sk fit --config`` on the written file builds and fits the same estimator as
    ``search.best_estimator_``. A winning value of ``None`` is left out of ``[params]``
    (TOML has no null), which is only allowed where ``None`` is the estimator's default.
    After an interrupted search it is the best of the candidates that finished.
    """
    results = _results_dict(search)
    if hasattr(search, "best_params_"):
        best = search.best_params_
    else:
        metric = search.refit if isinstance(search.refit, str) else "score"
        best = results["params"][int(np.argmin(results[f"rank_test_{metric}"]))]
    out = json.loads(json.dumps(config))
    params = dict(out.get("params", {}))
    defaults = search.estimator.get_params(deep=True)
    for key, value in best.items():
        if value is None:
            if defaults.get(key) is not None:
                raise ConfigError(f"best {key} is None but its default is {defaults[key]!r}; TOML cannot write "
                                  "None, so fix this value in [params] of the grid file instead of searching it")
            params.pop(key, None)
        else:
            params[key] = plain_value(value, key)
    out["params"] = params
    return out
