"""Hyper-parameter search: ``pipelines/grid-*.toml`` grids, searched with location-grouped folds.

A grid file is a fit configuration plus a ``[grid]`` table of ``param_grid`` keys::

    fusion = "late"
    model = "logreg"
    seed = 0

    [params]                       # fixed values, as in a fit config
    pooler__audio__stats = ["mean"]

    [grid]                         # searched values: sklearn param_grid keys -> lists
    audio__head__C = [0.1, 1.0]
    audio__pca = ["passthrough", { estimator = "PCA", n_components = 64 }]

Values follow :func:`avsc_sk._config.build_params`: estimator tables are built, lists
become tuples; TOML has no null, so the string ``"None"`` means ``None``. ``[[grid]]``
(an array of tables) gives a list of grids, as sklearn accepts.

The outer folds follow the one fold policy (:class:`~avsc_sk.model_selection.LocationKFold`):
stratified by class and grouped by recording location, since clips from one location are
near duplicates and a fold that splits a location scores too high and picks over-fitted
settings; every training part is checked to hold every class (fewer folds with a warning,
or a refusal) before anything is fitted. Estimators whose ``fit`` takes ``groups``
(late, weighted and intermediate fusion, segment mode) get them through scikit-learn's
metadata routing, so their internal folds are grouped too.
"""

import contextlib
import inspect
import json
import math
import numbers
import sys
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, ParameterGrid, ParameterSampler, RandomizedSearchCV

from ._config import DEFAULT_CONFIG, ESTIMATORS, _check, build_params, check_param_keys
from .errors import ConfigError, DataError, MissingDependencyError
from .model_selection import LocationKFold, check_cv_groups
from .heads import takes_groups

__all__ = ["SEARCHES", "BACKENDS", "load_grid", "make_search", "search_folds", "run_search", "search_results",
           "results_table", "best_config", "plot_search", "ProgressLine"]

#: Search strategies of :func:`make_search`.
SEARCHES = ("grid", "halving", "random")
#: Execution backends of :func:`run_search`.
BACKENDS = ("loky", "threading", "dask")

_DASK_HINT = "pip install 'avsc-sk[dask]'"


# ----------------------------------------------------------------------------- grid files

def _grid_value(key, value, source):
    if isinstance(value, str) and value == "None":
        return None
    return build_params({key: value}, source=f"{source}: grid")[key]


def _parse_grid(table, source):
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{source}: [grid] should be a table of param_grid keys, e.g. head__C = [0.1, 1.0]")
    grid = {}
    for key, values in table.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{source}: grid.{key} = {values!r} should be a non-empty list of values to try")
        grid[key] = [_grid_value(key, v, source) for v in values]
    return grid


def load_grid(path):
    """Read a grid file: a fit configuration and its ``[grid]`` search space.

    Parameters
    ----------
    path : str or Path
        A TOML file such as ``pipelines/grid-late.toml``.

    Returns
    -------
    config : dict
        The fixed part, as :func:`avsc_sk._config.load_config` returns it.
    param_grid : dict or list of dict
        ``param_grid`` for :func:`make_search`, estimator tables already built.

    Raises
    ------
    ConfigError
        For a missing or invalid file, a missing ``[grid]``, or a grid value that is not a list.
    """
    path = Path(path)
    try:
        loaded = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"grid file {path} does not exist; pass one from pipelines/, "
                          "e.g. pipelines/grid-late.toml") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"grid file {path} is not valid TOML ({exc}); fix the syntax") from None
    table = loaded.pop("grid", None)
    if table is None:
        raise ConfigError(f"{path} has no [grid] table; add one, e.g. [grid] head__C = [0.1, 1.0]")
    config = json.loads(json.dumps(DEFAULT_CONFIG))
    config.update(_check(loaded, path))
    grids = [_parse_grid(t, path) for t in table] if isinstance(table, list) else [_parse_grid(table, path)]
    overlap = sorted(set(config["params"]) & {k for g in grids for k in g})
    if overlap:
        raise ConfigError(f"{path}: {overlap[0]!r} is both in [params] and [grid]; keep it in one of them")
    return config, (grids[0] if len(grids) == 1 else grids)


def _grids(param_grid):
    return [param_grid] if isinstance(param_grid, dict) else list(param_grid)


def check_grid(estimator, param_grid):
    """Refuse grid keys the estimator does not have, naming the nearest valid ones."""
    for grid in _grids(param_grid):
        check_param_keys(estimator, grid, source="grid", candidates=True)


# ----------------------------------------------------------------------------- search objects

class _ChunkedSearch:
    """Evaluate candidates a few at a time, so progress is known and an interrupt keeps what finished.

    BaseSearchCV accumulates results over repeated ``evaluate_candidates`` calls (successive
    halving relies on it), so the final ``cv_results_`` equal those of one call: same
    candidates, same order, same folds (the outer splitter is deterministic).
    """

    def _candidates(self):
        raise NotImplementedError

    def _run_search(self, evaluate_candidates, callback_ctx=None):
        candidates = list(self._candidates())
        tracker = _Tracker(self, total=len(candidates))
        self._avsc_failed = []
        chunk = max(1, getattr(self, "_avsc_chunk", None) or _chunk_size(self.n_jobs, self.n_splits_))
        try:
            for start in range(0, len(candidates), chunk):
                batch = candidates[start:start + chunk]
                try:
                    tracker.results = evaluate_candidates(batch)
                except ValueError as exc:
                    # sklearn raises when every fit of one call fails; here that is one batch, not
                    # the search: note its candidates and go on (they are left out of cv_results_).
                    if not _all_fits_failed(exc):
                        raise
                    self._avsc_failed.extend((params, _first_error(str(exc))) for params in batch)
                tracker.advance(len(batch))
        except KeyboardInterrupt:
            self.partial_results_ = tracker.results
            raise
        if tracker.results is None and self._avsc_failed:
            params, error = self._avsc_failed[0]
            raise ConfigError(f"all {len(candidates)} candidates failed; the first ({_describe(params)}): {error}")


class _GridSearch(_ChunkedSearch, GridSearchCV):
    __doc__ = GridSearchCV.__doc__

    def _candidates(self):
        return ParameterGrid(self.param_grid)


class _RandomSearch(_ChunkedSearch, RandomizedSearchCV):
    __doc__ = RandomizedSearchCV.__doc__

    def _candidates(self):
        return ParameterSampler(self.param_distributions, self.n_iter, random_state=self.random_state)


def _halving_class():
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    class _HalvingSearch(HalvingGridSearchCV):
        # Halving reuses its splitter per iteration; chunking could draw new subsamples, so
        # progress is reported per iteration instead.
        def _run_search(self, evaluate_candidates, callback_ctx=None):
            tracker = _Tracker(self, total=None)

            def evaluate(candidate_params, *args, **kwargs):
                candidate_params = list(candidate_params)
                tracker.results = evaluate_candidates(candidate_params, *args, **kwargs)
                tracker.advance(len(candidate_params))
                return tracker.results

            parent = super()._run_search
            kwargs = {"callback_ctx": callback_ctx} if "callback_ctx" in inspect.signature(parent).parameters else {}
            try:
                parent(evaluate, **kwargs)
            except KeyboardInterrupt:
                self.partial_results_ = tracker.results
                raise

    return _HalvingSearch


class _Tracker:
    def __init__(self, search, total):
        self.search, self.total, self.done, self.results = search, total, 0, None
        self.start = time.perf_counter()

    def advance(self, n):
        self.done += n
        progress = getattr(self.search, "_avsc_progress", None)
        if progress is not None:
            progress(self.done, self.total, time.perf_counter() - self.start)


def _all_fits_failed(exc):
    return str(exc).lstrip().startswith("All the ") and "fits failed" in str(exc)


def _first_error(message):
    """The last line of the first traceback in sklearn's fit-failure message, e.g. ``ValueError: ...``."""
    blocks = message.split("-" * 80 + "\n")
    lines = [line.strip() for line in (blocks[1] if len(blocks) > 1 else message).splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def _describe(params):
    return ", ".join(f"{k}={_label(v)}" for k, v in params.items()) or "no parameters"


def _chunk_size(n_jobs, n_splits):
    # Enough fits per chunk to keep every worker busy (about four rounds), few enough for
    # a live progress line and a small loss on Ctrl-C.
    from joblib import effective_n_jobs

    workers = effective_n_jobs(n_jobs)
    return max(1, math.ceil(4 * workers / max(1, n_splits)))


def neg_log_loss_scorer(estimator, X, y):
    """Negated exact log loss (``log_loss``: over the float probabilities, as scikit-learn computes it).

    sklearn's ``"neg_log_loss"`` fails when a grouped test fold holds a class the fold's
    training lacked; here the columns are the model's ``classes_`` and such a class gets
    probability 0 (clipped).
    """
    from .evaluation import exact_log_loss
    from .runs import predict_proba_scenes

    return -exact_log_loss(y, predict_proba_scenes(estimator, X), classes=[str(c) for c in estimator.classes_])


def log_loss_scores(estimator, X, y):
    """Every score a log-loss search records, from one ``predict_proba``.

    Returns
    -------
    dict
        ``neg_log_loss`` (exact, ranks the candidates), ``neg_log_loss_ref3`` (over the
        probabilities rounded to 3 decimals, as the reference scoring reads prediction.csv)
        and ``accuracy``.
    """
    from .evaluation import score
    from .runs import predict_proba_scenes

    s = score(y, predict_proba_scenes(estimator, X), classes=[str(c) for c in estimator.classes_])
    return {"neg_log_loss": -s["log_loss"], "neg_log_loss_ref3": -s["log_loss_ref3"], "accuracy": s["accuracy"]}


def _scorer(name):
    return neg_log_loss_scorer if name == "neg_log_loss" else name


def _scoring(scoring, search):
    if search == "halving":
        return _scorer(scoring)  # successive halving ranks by one metric only
    if scoring == "neg_log_loss":
        return log_loss_scores
    if scoring == "accuracy":
        return {"accuracy": "accuracy"}
    return {scoring: _scorer(scoring), "accuracy": "accuracy"}


def make_search(estimator, param_grid, *, search="grid", cv=5, scoring="neg_log_loss", n_jobs=1, n_iter=10,
                random_state=0, refit=True, cv_groups="location"):
    """A scikit-learn search over ``param_grid`` with folds grouped by recording location.

    Parameters
    ----------
    estimator : estimator
        E.g. from :func:`avsc_sk.runs.build_estimator`.
    param_grid : dict or list of dict
        From :func:`load_grid`; for ``"random"`` the lists are sampled uniformly.
    search : {"grid", "halving", "random"}, default="grid"
        ``GridSearchCV``, ``HalvingGridSearchCV`` (resource: training clips) or ``RandomizedSearchCV``.
    cv : int, default=5
        Folds asked for (:class:`~avsc_sk.model_selection.LocationKFold`: stratified, grouped
        by ``groups``, fewer when a training part would lack a class).
    scoring : str, default="neg_log_loss"
        The metric that ranks candidates and picks the refit; ``accuracy`` is recorded too
        (not with ``"halving"``, which takes one metric). ``neg_log_loss`` is the exact log
        loss; the reference one (``neg_log_loss_ref3``, 3 decimals) is recorded beside it.
    n_jobs : int, default=1
        Parallel fits (``-1``: all cores, or all Dask workers under ``backend="dask"``).
    n_iter : int, default=10
        Sampled candidates for ``"random"``.
    random_state : int, default=0
        Seeds the folds, candidate sampling (random) and subsampling (halving).
    refit : bool, default=True
        Refit the best candidate on all the data (``best_estimator_``).
    cv_groups : {"location", "none"}, default="location"
        ``"none"``: stratified folds that share locations (scores marked optimistic).

    Returns
    -------
    search : BaseSearchCV
        Unfitted; run it with :func:`run_search`, which passes the groups.
    """
    if search not in SEARCHES:
        raise ConfigError(f"search {search!r}: expected one of {', '.join(SEARCHES)}")
    if not isinstance(cv, numbers.Integral) or isinstance(cv, bool) or cv < 2:
        raise ConfigError(f"cv={cv!r}: expected a number of folds, 2 or more")
    check_grid(estimator, param_grid)
    splitter = LocationKFold(int(cv), cv_groups=check_cv_groups(cv_groups), random_state=random_state,
                             what="tune's cross-validation")
    scorers = _scoring(scoring, search)
    refit_on = scoring if refit else False
    if search == "grid":
        return _GridSearch(estimator, param_grid, scoring=scorers, cv=splitter, n_jobs=n_jobs, refit=refit_on,
                           error_score=np.nan)
    if search == "random":
        if not isinstance(n_iter, numbers.Integral) or n_iter < 1:
            raise ConfigError(f"n_iter={n_iter!r}: expected a positive number of candidates")
        return _RandomSearch(estimator, param_grid, n_iter=int(n_iter), scoring=scorers, cv=splitter,
                             n_jobs=n_jobs, refit=refit_on, random_state=random_state, error_score=np.nan)
    return _halving_class()(estimator, param_grid, scoring=scorers, cv=splitter, n_jobs=n_jobs, refit=bool(refit),
                            random_state=random_state, error_score=np.nan)


# ----------------------------------------------------------------------------- running

def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(f"--backend dask needs dask.distributed, which is not installed; "
                                     f"{_DASK_HINT}") from None
    return distributed


def dask_client(scheduler=None):
    """A ``(client, cluster)`` pair: ``scheduler`` is an address, or ``"local"``/``None`` for a LocalCluster.

    The caller closes both (``cluster`` is ``None`` for an existing scheduler).
    """
    distributed = _import_distributed()
    if scheduler in (None, "", "local"):
        cluster = distributed.LocalCluster(threads_per_worker=1, processes=True, dashboard_address=":0")
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(scheduler, timeout="10s"), None
    except (OSError, TimeoutError) as exc:
        raise DataError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); "
                        "check the address (tcp://HOST:8786) or use --scheduler local") from None


def search_folds(search, train):
    """Decide and check the search's folds on ``train`` before fitting: a :class:`~avsc_sk.model_selection.CVPlan`.

    Warns once when fewer folds than asked keep every class in training; raises a DataError
    when no grouped split can. :func:`run_search` calls it; call it first to know the folds.
    """
    if train.y is None:
        raise DataError(f"{train.source or 'features'}: split {train.split!r} has no labels; tuning needs labels")
    if not isinstance(search.cv, LocationKFold):
        raise ConfigError(f"cv={search.cv!r}: tune's folds come from make_search (a LocationKFold)")
    return search.cv.plan(np.asarray(train.y), np.asarray(train.groups))


def run_search(search, train, *, backend="loky", scheduler=None, client=None, progress=None):
    """Fit ``search`` on a FeatureSet with its locations as groups.

    Parameters
    ----------
    search : BaseSearchCV
        From :func:`make_search`.
    train : FeatureSet
        Labelled clips; ``train.groups`` (recording locations) drive the folds.
    backend : {"loky", "threading", "dask"}, default="loky"
        joblib backend. ``"dask"`` sends the fits to a Dask cluster; ``X`` and ``y`` are
        scattered to every worker once and each task refers to them (the per-task payload is
        the estimator, the fold indices and, for estimators that take them, the groups).
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``) or ``"local"`` for a LocalCluster here.
    client : distributed.Client, optional
        An existing Dask client to use instead of ``scheduler`` (it is not closed).
    progress : callable, optional
        Called as ``progress(done, total, elapsed_s)`` after each batch of candidates
        (``total`` is ``None`` for halving).

    Returns
    -------
    search
        Fitted. On Ctrl-C the ``KeyboardInterrupt`` propagates and ``search.partial_results_``
        holds the candidates that finished (see :func:`search_results`). Candidates whose fits
        fail are scored NaN (or, when every fit of their batch failed, left out), as
        ``error_score=np.nan`` does; ``search.failures_`` counts them and keeps the first error
        (``None`` when all succeeded).

    Raises
    ------
    ConfigError
        When every candidate fails, naming the first and its error.
    """
    import joblib
    import sklearn

    if backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    search_folds(search, train)  # checked before anything is fitted
    groups = np.asarray(train.groups)
    search._avsc_progress = progress
    X, y = train.X, np.asarray(train.y)
    routed = takes_groups(search.estimator)
    own_client = cluster = None
    search.failures_ = None
    try:
        with sklearn.config_context(enable_metadata_routing=routed), _fit_failures(search):
            if routed:
                # The estimator's own internal CV gets the groups too (never an ungrouped inner split).
                # (A Pipeline routes them to its head, which requests them by default.)
                estimator = clone(search.estimator)
                if hasattr(estimator, "set_fit_request"):
                    estimator = estimator.set_fit_request(groups=True)
                search.set_params(estimator=estimator)
            if backend == "dask":
                if client is None:
                    own_client, cluster = dask_client(scheduler)
                    client = own_client
                # Scatter once: the tasks then carry futures to these arrays, not copies.
                with joblib.parallel_config("dask", client=client, scatter=[X, y]):
                    search.fit(X, y, groups=groups)
            elif backend == "threading":
                with joblib.parallel_config("threading"):
                    search.fit(X, y, groups=groups)
            else:
                search.fit(X, y, groups=groups)
    finally:
        search._avsc_progress = None
        if own_client is not None:
            own_client.close()
        if cluster is not None:
            cluster.close()
    return search


@contextlib.contextmanager
def _fit_failures(search):
    """Collect sklearn's fit-failure warnings into ``search.failures_``; other warnings pass on."""
    errors = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FitFailedWarning)
            # The failures are reported once, from search.failures_; sklearn would warn again for the NaN ranks.
            warnings.filterwarnings("ignore", "One or more of the .* scores are non-finite", UserWarning)
            try:
                yield
            except ValueError as exc:
                if not _all_fits_failed(exc):  # successive halving: every candidate of a round failed
                    raise
                raise ConfigError(f"every candidate of a search round failed: {_first_error(str(exc))}") from None
    finally:
        for w in caught:  # shown after the block: inside it, showwarning would append to `caught`
            if issubclass(w.category, FitFailedWarning):
                errors.append(_first_error(str(w.message)))
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    search.failures_ = _failures(search, errors)


def _failures(search, errors):
    left_out = getattr(search, "_avsc_failed", [])
    results = search.cv_results_
    key = f"mean_test_{search.refit}" if isinstance(search.refit, str) else min(k for k in results
                                                                               if k.startswith("mean_test_"))
    nan = np.isnan(np.asarray(results[key], dtype=float))
    if not left_out and not nan.any():
        return None
    first = left_out[0] if left_out else (results["params"][int(np.flatnonzero(nan)[0])], errors[0] if errors
                                          else "a fold scored NaN")
    return {"n_failed": len(left_out) + int(nan.sum()), "n_candidates": len(left_out) + len(nan),
            "first": _describe(first[0]), "error": first[1]}


# ----------------------------------------------------------------------------- results

def _results_dict(search):
    results = getattr(search, "cv_results_", None)
    if results is None:
        results = getattr(search, "partial_results_", None)
    if results is None:
        raise DataError("the search has no finished candidates yet; run it with run_search")
    return results


def _label(value):
    if isinstance(value, BaseEstimator):
        if type(value).__name__ not in ESTIMATORS:
            return repr(value)
        spec = _estimator_spec(value)
        return spec["estimator"] + "(" + ", ".join(f"{k}={v!r}" for k, v in spec.items() if k != "estimator") + ")"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_label(v) for v in value) + "]"
    if isinstance(value, np.generic):
        value = value.item()
    return str(value) if isinstance(value, str) else repr(value)


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


def _estimator_spec(est):
    name = type(est).__name__
    if name not in ESTIMATORS:
        raise ConfigError(f"cannot write a {name} to a config; [params] tables may build {', '.join(ESTIMATORS)}")
    defaults = type(est)().get_params(deep=False)
    spec = {"estimator": name}
    for key, value in est.get_params(deep=False).items():
        if value is not defaults.get(key) and value != defaults.get(key):
            spec[key] = _plain(value, key)
    return spec


def _plain(value, key):
    """A TOML-writable version of a parameter value."""
    if isinstance(value, BaseEstimator):
        return _estimator_spec(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v, key) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    raise ConfigError(f"cannot write {key} = {value!r} to a config")


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
            params[key] = _plain(value, key)
    out["params"] = params
    return out


# ----------------------------------------------------------------------------- plot

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


# ----------------------------------------------------------------------------- progress

class ProgressLine:
    """A one-line progress report on stderr: configurations done, elapsed, estimated time left.

    Silent for the first ``after_s`` seconds, so short searches print nothing; on a
    terminal the line is rewritten in place, elsewhere a line at most every ``every_s`` seconds.
    """

    def __init__(self, stream=None, *, after_s=2.0, every_s=10.0):
        self.stream = stream if stream is not None else sys.stderr
        self.after_s, self.every_s = after_s, every_s
        self._last = None
        self._shown = False
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done, total, elapsed):
        if elapsed < self.after_s and (total is None or done < total):
            return
        finished = total is not None and done >= total
        if not self._tty and not finished and self._last is not None and elapsed - self._last < self.every_s:
            return
        self._last = elapsed
        if total:
            left = elapsed / done * (total - done) if done else float("nan")
            text = f"tune: {done}/{total} configurations, {_fmt(elapsed)} elapsed, about {_fmt(left)} left"
        else:
            text = f"tune: {done} configurations, {_fmt(elapsed)} elapsed"
        self.stream.write(("\r" + text.ljust(78)) if self._tty else text + "\n")
        self._shown = True
        self.stream.flush()

    def close(self):
        """End the line on a terminal."""
        if self._tty and self._shown:
            self.stream.write("\n")
            self.stream.flush()


def _fmt(seconds):
    if not np.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
