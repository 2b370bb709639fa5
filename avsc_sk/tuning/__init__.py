"""Hyper-parameter search: ``pipelines/grid-*.toml`` grids, searched with location-grouped folds.

- :mod:`._grid`: grid files (read, check against the estimator) and the values written back;
- :mod:`._search`: the search objects and their scorers (:func:`make_search`);
- :mod:`._run`: running a search on a FeatureSet, on joblib or Dask (:func:`run_search`);
- :mod:`._results`: the results table, its Markdown and the best configuration;
- :mod:`._plot`: the score against each searched parameter.

Progress: :func:`run_search` takes the progress hook of ``avsc_sk._progress``.
"""

from .._dask import dask_client
from ._grid import check_grid, load_grid, plain_value
from ._plot import plot_search
from ._results import best_config, results_table, search_results
from ._run import BACKENDS, run_search, search_folds
from ._search import SEARCHES, log_loss_scores, make_search, neg_log_loss_scorer

__all__ = ["SEARCHES", "BACKENDS", "load_grid", "check_grid", "plain_value", "make_search", "neg_log_loss_scorer",
           "log_loss_scores", "search_folds", "run_search", "dask_client", "search_results", "results_table",
           "best_config", "plot_search"]
