"""Running a search: its folds checked first, fits on a joblib backend (or Dask), failures kept."""

import contextlib
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning

from .._dask import dask_client
from .._progress import advance_to, bar
from ..errors import ConfigError, DataError
from ..heads import takes_groups
from ..model_selection import LocationKFold
from ._search import _all_fits_failed, _describe, _first_error

#: Execution backends of :func:`run_search`.
BACKENDS = ("loky", "threading", "dask")


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
        A progress hook (``tqdm.tqdm``'s signature; see ``avsc_sk._progress``): one bar of
        configurations done, advanced after each batch (of unknown total for halving).
        ``None``: silent.

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
    if backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    search_folds(search, train)  # checked before anything is fitted
    groups = np.asarray(train.groups)
    with bar(progress, "tune", unit="config") as shown:
        search._avsc_progress = lambda done, total, elapsed: advance_to(shown, done, total)
        return _run(search, train, groups, backend, scheduler, client)


def _run(search, train, groups, backend, scheduler, client):
    import joblib
    import sklearn

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
