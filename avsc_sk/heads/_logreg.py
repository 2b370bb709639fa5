"""Multinomial logistic regression whose ``C`` is chosen along a warm-started path on grouped inner folds."""

import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from .._blas import one_blas_thread
from .._sklearn_private import StrOptions
from ._base import COUNT, FOLDS, POSITIVE, WeightedHead, aligned, fold_log_loss

__all__ = ["LogisticRegressionHead"]

#: Half-decades from 1e-4 to 1e2: strongly regularised for ~1,000 standardised embedding
#: dimensions and few locations, nearly unregularised for a few well-separated dimensions.
DEFAULT_CS = tuple(float(c) for c in np.logspace(-4, 2, 13))

# The path only ranks the Cs: at tol=1e-3 its held-out log losses match tol=1e-4's to 3 decimals
# on synthetic fold1 (early fusion) in 40% of the solver time. The final fit uses ``tol``.
_PATH_TOL = 1e-3


def _step(model, X, y, train, test, C, classes, tol, sample_weight=None):
    """Refit one fold's warm-started ``model`` at ``C``; the model and its held-out log loss."""
    # One BLAS thread: many small fits; two threads on a busy 2-core machine made the path
    # 4x slower (digits, 900 samples), and n_jobs spreads the folds over the cores instead.
    with warnings.catch_warnings(), one_blas_thread():
        # A not fully converged point on the path still scores what it predicts.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_w = None if sample_weight is None else sample_weight[train]
        model.set_params(C=C).fit(X[train], y[train], sample_weight=fit_w)
        if model.n_iter_.max() == 0 and model.tol > tol:
            # The loose path tolerance can leave a warm start where it was (the penalty's change
            # is below it): that point would score as its predecessor and bias C_ low.
            model.set_params(tol=tol).fit(X[train], y[train], sample_weight=fit_w)
            model.set_params(tol=max(tol, _PATH_TOL))
    P = aligned(model.predict_proba(X[test]), model.classes_, classes)
    return model, fold_log_loss(y[test], P, classes, None if sample_weight is None else sample_weight[test])


def _path(X, y, splits, Cs, classes, patience, params, n_jobs, sample_weight=None):
    """Mean held-out log loss over ``splits`` along ``Cs`` (ascending), each fold warm-started along it.

    The folds go through the path together and it stops ``patience`` values past the best
    *mean* loss: beyond the optimum the loss only grows, and the weakly regularised fits are
    the slow ones. (A fold stopping on its own loss would cut every fold's path short at the
    smallest of their optima.) Returns the mean losses and, per value, the folds' coefficients
    and intercepts (to warm-start the final fit; ``None`` where a fold lacked a class).
    """
    models = [LogisticRegression(warm_start=True, **{**params, "tol": max(params["tol"], _PATH_TOL)})
              for _ in splits]
    means, coefs = [], []
    with Parallel(n_jobs=n_jobs) as parallel:
        for C in Cs:
            steps = parallel(delayed(_step)(model, X, y, train, test, C, classes, params["tol"], sample_weight)
                             for model, (train, test) in zip(models, splits))
            models = [model for model, _ in steps]
            means.append(float(np.mean([loss for _, loss in steps])))
            coefs.append([(m.coef_.copy(), m.intercept_.copy()) if len(m.classes_) == len(classes) else None
                          for m in models])
            if len(means) - 1 - int(np.argmin(means)) >= patience:
                break
    return means, coefs


class LogisticRegressionHead(WeightedHead):
    """Multinomial logistic regression choosing its inverse regularisation ``C`` from the data.

    With ``C=None`` each inner fold (grouped by ``groups``, the recording locations) fits a
    path of ``Cs`` in ascending order, every fit warm-started from the one before (as
    :class:`~sklearn.linear_model.LogisticRegressionCV` does), and scores its held-out log
    loss; the path stops ``patience`` values past the best mean loss over the folds. ``C_``
    is the value with the lowest mean log loss, refitted on all the data (warm-started from
    the folds' mean solution there).

    Parameters
    ----------
    C : float, optional
        A fixed inverse regularisation strength; ``None`` chooses it.
    Cs : sequence of float, default=13 half-decades from 1e-4 to 1e2
        Candidate values, tried in ascending order.
    cv : int, default=5
        Inner folds (fewer when a class or the locations cannot fill them).
    patience : int, default=2
        Values tried past the best mean loss before the path stops.
    max_iter : int, default=1000
    tol : float, default=1e-4
    n_jobs : int, optional
        Inner folds fitted in parallel (joblib; ``None`` is 1).
    random_state : int or None, default=0
        Seed of the inner fold assignment and of the solver.
    cv_groups : {"auto", "location", "none"}, default="auto"
        Inner folds grouped by ``groups`` where every class can stay in training, else stratified
        with a :class:`~avsc_sk.errors.CVFallbackWarning` (``"auto"``); grouped or refused
        (``"location"``); or stratified only (``"none"``).
    class_weight : "balanced", dict or None, default=None
        As :class:`~sklearn.linear_model.LogisticRegression`'s, for the path and the final fit;
        ``"balanced"`` weighs classes inversely to their frequency (imbalanced label sets).

    Attributes
    ----------
    C_ : float
        The ``C`` used: chosen, or the given ``C``.
    cv_scores_ : list of dict
        One record per value the path reached, in the order tried (ascending ``C``):
        ``{"C": 0.01, "log_loss": 0.53}``, the mean inner log loss; empty when ``C`` was given.
    estimator_ : LogisticRegression
        Fitted on all the data with ``C_``.
    n_iter_ : ndarray
        Solver iterations of that final fit.
    cv_fallback_ : str or None
        Why the inner folds fell back to stratified ones that share locations (``C_`` is then
        chosen optimistically), or ``None``.
    classes_ : ndarray
    n_features_in_ : int
    """

    _chosen = {"C": "C_"}
    _grids = {"C": "Cs"}
    _parameter_constraints = {"C": [POSITIVE, None], "Cs": ["array-like"], "cv": [FOLDS], "patience": [COUNT],
                              "max_iter": [COUNT], "tol": [POSITIVE], "n_jobs": [Integral, None],
                              "random_state": ["random_state"], "cv_groups": [StrOptions({"auto", "location", "none"})],
                              "class_weight": [StrOptions({"balanced"}), dict, None]}

    def __init__(self, C=None, Cs=DEFAULT_CS, cv=5, patience=2, max_iter=1000, tol=1e-4, n_jobs=None,
                 random_state=0, cv_groups="auto", class_weight=None):
        self.C = C
        self.Cs = Cs
        self.cv = cv
        self.patience = patience
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.cv_groups = cv_groups
        self.class_weight = class_weight

    def _params(self):
        return {"max_iter": self.max_iter, "tol": self.tol, "random_state": self.random_state,
                "class_weight": self.class_weight}

    def _fit(self, X, y, groups, sample_weight=None):
        self.cv_scores_ = []
        self.C_ = self.C
        start = []
        if self.C is None:
            self.C_ = float(min(self.Cs))
            splits = self._inner_splits(y, groups)
            if splits is not None:
                Cs = sorted(float(c) for c in self.Cs)
                means, coefs = _path(X, y, splits, Cs, self.classes_, self.patience, self._params(), self.n_jobs,
                                     sample_weight)
                self.cv_scores_ = [{"C": c, "log_loss": loss} for c, loss in zip(Cs, means)]
                best = int(np.argmin(means))
                self.C_ = Cs[best]
                start = [c for c in coefs[best] if c is not None]
        self.estimator_ = LogisticRegression(C=self.C_, **self._params())
        if start:
            # As LogisticRegressionCV refits: from the folds' mean solution at C_, which is close
            # to the one on all the data (29 instead of 49 L-BFGS iterations on synthetic fold1).
            self.estimator_.set_params(warm_start=True)
            self.estimator_.coef_ = np.mean([coef for coef, _ in start], axis=0)
            self.estimator_.intercept_ = np.mean([intercept for _, intercept in start], axis=0)
        # One BLAS thread, as on the path: the fit's products are too small to share (on synthetic
        # fold1 early fusion, 8,646 x 1,024, a 2-thread OpenBLAS on a busy 2-core machine spent
        # 9.5 s of CPU and 15 s of wall clock where one thread took 1.6 s and 2.3 s).
        with one_blas_thread():
            self.estimator_.fit(X, y, sample_weight=sample_weight)
        self.estimator_.set_params(warm_start=False)
        self.n_iter_ = self.estimator_.n_iter_
