"""The search objects: scikit-learn's searches with location-grouped folds, the scorers, a progress hook.

The outer folds follow the one fold policy (:class:`~avsc_sk.model_selection.LocationKFold`):
stratified by class and grouped by recording location, since clips from one location are
near duplicates and a fold that splits a location scores too high and picks over-fitted
settings; every training part is checked to hold every class (fewer folds with a warning,
or a refusal) before anything is fitted. Estimators whose ``fit`` takes ``groups``
(late, weighted and intermediate fusion, segment mode) get them through scikit-learn's
metadata routing, so their internal folds are grouped too.
"""

import inspect
import math
import numbers
import time

import numpy as np
from sklearn.model_selection import GridSearchCV, ParameterGrid, ParameterSampler, RandomizedSearchCV

from ..errors import ConfigError
from ..model_selection import LocationKFold, check_cv_groups
from ._grid import _label, check_grid

#: Search strategies of :func:`make_search`.
SEARCHES = ("grid", "halving", "random")


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
    from ..evaluation import exact_log_loss
    from ..runs import predict_proba_scenes

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
    from ..evaluation import score
    from ..runs import predict_proba_scenes

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
