"""Nearest neighbours, LightGBM and the MLP, each choosing its capacity on grouped inner folds."""

from numbers import Integral, Real

import numpy as np
from lightgbm import LGBMClassifier, early_stopping
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier

from .._sklearn_private import Interval, StrOptions
from ._base import COUNT, FOLDS, NON_NEGATIVE, POSITIVE, InnerCVHead, aligned, fold_log_loss

__all__ = ["KNNHead", "LGBMHead", "MLPHead"]


def _cv_log_loss(estimator, X, y, splits, classes):
    """Mean held-out log loss of ``estimator`` over ``splits``."""
    losses = []
    for train, test in splits:
        model = clone(estimator).fit(X[train], y[train])
        losses.append(fold_log_loss(y[test], aligned(model.predict_proba(X[test]), model.classes_, classes), classes))
    return float(np.mean(losses))


def _choose(head, make, values, X, y, splits):
    """The value of ``values`` whose ``make(value)`` has the lowest inner log loss (``values[0]`` if no folds)."""
    head.cv_scores_ = {}
    if splits is None:
        return values[0]
    for value in values:
        head.cv_scores_[value] = _cv_log_loss(make(value), X, y, splits, head.classes_)
    return min(values, key=head.cv_scores_.get)


class KNNHead(InnerCVHead):
    """Distance-weighted nearest neighbours choosing ``n_neighbors`` by grouped inner CV log loss.

    Parameters
    ----------
    n_neighbors : int, optional
        Fixed; ``None`` chooses among ``ks`` (those below the smallest inner training fold).
    ks : sequence of int, default=(5, 10, 20, 40, 80)
    cv : int, default=5
    random_state : int or None, default=0
        Seed of the inner fold assignment.

    Attributes
    ----------
    n_neighbors_ : int
    cv_scores_ : dict
        ``{k: mean inner log loss}``.
    estimator_ : KNeighborsClassifier
    classes_ : ndarray
    n_features_in_ : int
    """

    _chosen = {"n_neighbors": "n_neighbors_"}
    _parameter_constraints = {"n_neighbors": [COUNT, None], "ks": ["array-like"], "cv": [FOLDS],
                              "random_state": ["random_state"], "cv_groups": [StrOptions({"auto", "location", "none"})]}

    def __init__(self, n_neighbors=None, ks=(5, 10, 20, 40, 80), cv=5, random_state=0, cv_groups="auto"):
        self.n_neighbors = n_neighbors
        self.ks = ks
        self.cv = cv
        self.random_state = random_state
        self.cv_groups = cv_groups

    def _fit(self, X, y, groups):
        k = self.n_neighbors
        if k is None:
            splits = self._inner_splits(y, groups)
            # No more neighbours than the smallest training part holds (or, without folds, than all).
            limit = len(y) if splits is None else min(len(train) for train, _ in splits)
            ks = sorted({min(int(v), limit) for v in self.ks})
            k = _choose(self, lambda v: KNeighborsClassifier(n_neighbors=v, weights="distance"), ks, X, y, splits)
        else:
            self.cv_scores_ = {}
        self.n_neighbors_ = int(k)  # a given value is used as given: too large is scikit-learn's error
        self.estimator_ = KNeighborsClassifier(n_neighbors=self.n_neighbors_, weights="distance").fit(X, y)


class MLPHead(InnerCVHead):
    """scikit-learn's one-hidden-layer MLP choosing its L2 penalty ``alpha`` by grouped inner CV log loss.

    Parameters
    ----------
    alpha : float, optional
        Fixed; ``None`` chooses among ``alphas``.
    alphas : sequence of float, default=(1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    hidden_layer_sizes : tuple of int, default=(256,)
    max_iter : int, default=200
    cv : int, default=3
        Inner folds: an MLP fit costs more than the other heads'.
    random_state : int or None, default=0

    Attributes
    ----------
    alpha_ : float
    cv_scores_ : dict
    estimator_ : MLPClassifier
    n_iter_ : int
        Epochs of the final fit.
    classes_ : ndarray
    n_features_in_ : int
    """

    _chosen = {"alpha": "alpha_"}
    _parameter_constraints = {"alpha": [NON_NEGATIVE, None], "alphas": ["array-like"],
                              "hidden_layer_sizes": ["array-like"], "max_iter": [COUNT], "cv": [FOLDS],
                              "random_state": ["random_state"], "cv_groups": [StrOptions({"auto", "location", "none"})]}

    def __init__(self, alpha=None, alphas=(1e-4, 1e-3, 1e-2, 1e-1, 1.0), hidden_layer_sizes=(256,), max_iter=200,
                 cv=3, random_state=0, cv_groups="auto"):
        self.alpha = alpha
        self.alphas = alphas
        self.hidden_layer_sizes = hidden_layer_sizes
        self.max_iter = max_iter
        self.cv = cv
        self.random_state = random_state
        self.cv_groups = cv_groups

    def _model(self, alpha):
        # MLPClassifier's own early stopping holds out an ungrouped random split: off; max_iter bounds it.
        return MLPClassifier(hidden_layer_sizes=self.hidden_layer_sizes, alpha=alpha, max_iter=self.max_iter,
                             random_state=self.random_state)

    def _fit(self, X, y, groups):
        alpha = self.alpha
        if alpha is None:
            splits = self._inner_splits(y, groups)
            alpha = _choose(self, self._model, sorted(float(a) for a in self.alphas), X, y, splits)
        else:
            self.cv_scores_ = {}
        self.alpha_ = float(alpha)
        self.estimator_ = self._model(self.alpha_).fit(X, y)
        self.n_iter_ = self.estimator_.n_iter_


class LGBMHead(InnerCVHead):
    """LightGBM gradient boosting whose number of rounds is set by early stopping on a grouped validation fold.

    With ``n_estimators=None`` a model of up to ``max_rounds`` rounds is trained on all but one
    inner fold (grouped by the recording locations) and stopped once the held-out fold's log
    loss has not improved for ``stopping_rounds``; ``n_estimators_`` (its best round) is then
    refitted on all the data.

    Parameters
    ----------
    n_estimators : int, optional
        Fixed number of rounds; ``None`` chooses it.
    learning_rate, num_leaves, colsample_bytree, subsample, min_child_samples : LightGBM parameters
    max_rounds : int, default=1000
    stopping_rounds : int, default=30
    cv : int, default=5
        The validation fold is one of ``cv`` inner folds (a fifth of the locations).
    random_state : int or None, default=0
    n_jobs : int, default=1
        LightGBM threads: 1 is deterministic and safe under parallel searches.

    Attributes
    ----------
    n_estimators_ : int
    estimator_ : LGBMClassifier
    classes_ : ndarray
    n_features_in_ : int
    """

    _chosen = {"n_estimators": "n_estimators_"}
    _parameter_constraints = {"n_estimators": [COUNT, None], "learning_rate": [POSITIVE],
                              "num_leaves": [Interval(Integral, 2, None, closed="left")],
                              "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
                              "subsample": [Interval(Real, 0, 1, closed="right")], "min_child_samples": [COUNT],
                              "max_rounds": [COUNT], "stopping_rounds": [COUNT], "cv": [FOLDS],
                              "random_state": ["random_state"], "cv_groups": [StrOptions({"auto", "location", "none"})], "n_jobs": [Integral, None]}

    def __init__(self, n_estimators=None, learning_rate=0.05, num_leaves=15, colsample_bytree=0.3, subsample=0.8,
                 min_child_samples=20, max_rounds=1000, stopping_rounds=30, cv=5, random_state=0, n_jobs=1, cv_groups="auto"):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.colsample_bytree = colsample_bytree
        self.subsample = subsample
        self.min_child_samples = min_child_samples
        self.max_rounds = max_rounds
        self.stopping_rounds = stopping_rounds
        self.cv = cv
        self.random_state = random_state
        self.cv_groups = cv_groups
        self.n_jobs = n_jobs

    def _model(self, n_estimators):
        return LGBMClassifier(n_estimators=n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
                              colsample_bytree=self.colsample_bytree, subsample=self.subsample, subsample_freq=1,
                              min_child_samples=self.min_child_samples, random_state=self.random_state,
                              n_jobs=self.n_jobs, verbose=-1)

    def _fit(self, X, y, groups):
        rounds = self.n_estimators
        if rounds is None:
            rounds = 100  # too few clips for a validation fold: LightGBM's default
            splits = self._inner_splits(y, groups)
            if splits is not None:
                train, test = splits[0]
                if len(np.unique(y[train])) == len(self.classes_):
                    model = self._model(self.max_rounds).fit(
                        X[train], y[train], eval_set=[(X[test], y[test])],
                        callbacks=[early_stopping(self.stopping_rounds, verbose=False)])
                    rounds = max(1, int(model.best_iteration_ or self.max_rounds))
        self.n_estimators_ = int(rounds)
        self.estimator_ = self._model(self.n_estimators_).fit(X, y)
