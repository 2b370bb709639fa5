"""Nearest neighbours, LightGBM and the MLP, each choosing its capacity on grouped inner folds."""

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
from lightgbm import LGBMClassifier, early_stopping
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from .._sklearn_private import Interval, StrOptions
from ..errors import AvscWarning, ConfigError
from ._base import COUNT, FOLDS, NON_NEGATIVE, POSITIVE, InnerCVHead, WeightedHead, aligned, fold_log_loss

__all__ = ["KNNHead", "LGBMHead", "MLPHead", "MLPConvergenceWarning"]


class MLPConvergenceWarning(AvscWarning):
    """The MLP head's final fit used every one of its ``max_iter`` epochs without converging."""


def _eval_data(X, y):
    """LightGBM's validation-set arguments: ``eval_X``/``eval_y`` since 4.7 (``eval_set`` is deprecated there)."""
    if "eval_X" in inspect.signature(LGBMClassifier.fit).parameters:
        return {"eval_X": X, "eval_y": y}
    return {"eval_set": [(X, y)]}


_CLASS_WEIGHT = [StrOptions({"balanced"}), dict, None]


def _fit(estimator, X, y, class_weight=None, sample_weight=None):
    """``estimator.fit(X, y)``, each sample weighted by its class's ``class_weight`` (times ``sample_weight``)."""
    if class_weight is None and sample_weight is None:
        return estimator.fit(X, y)
    w = np.ones(len(y)) if class_weight is None else compute_sample_weight(class_weight, y)
    return estimator.fit(X, y, sample_weight=w if sample_weight is None else w * sample_weight)


def _cv_log_loss(estimator, X, y, splits, classes, class_weight=None, sample_weight=None):
    """Mean held-out log loss of ``estimator`` over ``splits`` (fitted with ``class_weight`` as sample weights).

    ``sample_weight`` weighs the fits and the held-out log losses.
    """
    losses = []
    for train, test in splits:
        with warnings.catch_warnings():
            # The candidates are compared at the same epoch budget (the MLP's max_iter): an inner
            # fit stopped by it is scored as it predicts, not reported once per fold.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = _fit(clone(estimator), X[train], y[train], class_weight,
                         None if sample_weight is None else sample_weight[train])
        losses.append(fold_log_loss(y[test], aligned(model.predict_proba(X[test]), model.classes_, classes), classes,
                                    None if sample_weight is None else sample_weight[test]))
    return float(np.mean(losses))


def _choose(head, name, make, values, X, y, splits, class_weight=None, sample_weight=None):
    """The value of ``values`` whose ``make(value)`` has the lowest inner log loss (``values[0]`` if no folds).

    Sets ``head.cv_scores_`` to one ``{name: value, "log_loss": loss}`` record per value, in order.
    """
    head.cv_scores_ = []
    if splits is None:
        return values[0]
    for value in values:
        loss = _cv_log_loss(make(value), X, y, splits, head.classes_, class_weight, sample_weight)
        head.cv_scores_.append({name: value, "log_loss": loss})
    return min(head.cv_scores_, key=lambda record: record["log_loss"])[name]


class _VoteWeightedKNN(KNeighborsClassifier):
    """Distance-weighted neighbours whose votes also count their class's ``class_weight``.

    scikit-learn's neighbours take no sample weights; weighting each neighbour's vote by its
    class's weight is what a sample weight would do to the vote, so ``"balanced"`` makes a rare
    class's neighbours count as much in total as a frequent one's.
    """

    def __init__(self, n_neighbors=5, *, class_weight=None):
        super().__init__(n_neighbors=n_neighbors, weights="distance")
        self.class_weight = class_weight

    def fit(self, X, y):
        super().fit(X, y)
        self.vote_weights_ = np.ones(len(self.classes_)) if self.class_weight is None else \
            compute_class_weight(self.class_weight, classes=self.classes_, y=np.asarray(y))
        return self

    def predict_proba(self, X):
        P = super().predict_proba(X) * self.vote_weights_
        return P / P.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


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
    cv_groups : {"auto", "location", "none"}, default="auto"
        The inner folds' policy (see :class:`~avsc_sk.heads.InnerCVHead`).
    class_weight : "balanced", dict or None, default=None
        Each neighbour's vote also counts its class's weight (``"balanced"``: inversely to the
        class's frequency), in the inner CV and the final model.

    Attributes
    ----------
    n_neighbors_ : int
    cv_scores_ : list of dict
        One record per ``k`` tried, in the order tried (ascending): ``{"n_neighbors": 10,
        "log_loss": 0.53}``, the mean inner log loss; empty when ``n_neighbors`` was given.
    estimator_ : KNeighborsClassifier
    classes_ : ndarray
    n_features_in_ : int
    """

    _chosen = {"n_neighbors": "n_neighbors_"}
    _grids = {"n_neighbors": "ks"}
    _parameter_constraints = {"n_neighbors": [COUNT, None], "ks": ["array-like"], "cv": [FOLDS],
                              "random_state": ["random_state"], "cv_groups": [StrOptions({"auto", "location", "none"})],
                              "class_weight": _CLASS_WEIGHT}

    def __init__(self, n_neighbors=None, ks=(5, 10, 20, 40, 80), cv=5, random_state=0, cv_groups="auto",
                 class_weight=None):
        self.n_neighbors = n_neighbors
        self.ks = ks
        self.cv = cv
        self.random_state = random_state
        self.cv_groups = cv_groups
        self.class_weight = class_weight

    def _model(self, k):
        return _VoteWeightedKNN(n_neighbors=k, class_weight=self.class_weight)

    def _fit(self, X, y, groups):
        k = self.n_neighbors
        if k is None:
            splits = self._inner_splits(y, groups)
            # No more neighbours than the smallest training part holds (or, without folds, than all).
            limit = len(y) if splits is None else min(len(train) for train, _ in splits)
            ks = sorted({min(int(v), limit) for v in self.ks})
            k = self._choose_k(ks, X, y, splits)
        else:
            self.cv_scores_ = []
        self.n_neighbors_ = int(k)  # a given value is used as given: too large is scikit-learn's error
        self.estimator_ = self._model(self.n_neighbors_).fit(X, y)


    def _choose_k(self, ks, X, y, splits):
        """The ``k`` of ``ks`` with the lowest mean inner log loss; sets ``cv_scores_`` as :func:`_choose` does.

        One neighbour search per fold, for the largest ``k``: the votes of every smaller ``k``
        are its first columns (the neighbours come sorted by distance), weighted as
        ``weights="distance"`` weighs them. Searching once instead of once per ``k`` made the
        choice ~4x cheaper (the search dominates, and on a busy machine its OpenMP threads more so).
        """
        self.cv_scores_ = []
        if splits is None:
            return ks[0]
        losses = np.zeros(len(ks))
        for train, test in splits:
            model = self._model(ks[-1]).fit(X[train], y[train])
            dist, ind = model.kneighbors(X[test], n_neighbors=ks[-1])
            codes = np.searchsorted(model.classes_, np.asarray(y[train]))[ind]
            with np.errstate(divide="ignore"):
                weights = 1.0 / dist
            exact = dist == 0  # as scikit-learn weighs a query on a training point: those points only
            rows = exact.any(axis=1)
            weights[rows] = exact[rows]
            for j, k in enumerate(ks):
                votes = np.zeros((len(test), len(model.classes_)))
                np.add.at(votes, (np.repeat(np.arange(len(test)), k), codes[:, :k].ravel()),
                          weights[:, :k].ravel())
                total = votes.sum(axis=1, keepdims=True)
                P = votes / np.where(total == 0, 1.0, total) * model.vote_weights_
                P /= P.sum(axis=1, keepdims=True)
                losses[j] += fold_log_loss(y[test], aligned(P, model.classes_, self.classes_), self.classes_)
        losses /= len(splits)
        self.cv_scores_ = [{"n_neighbors": k, "log_loss": float(loss)} for k, loss in zip(ks, losses)]
        return min(self.cv_scores_, key=lambda record: record["log_loss"])["n_neighbors"]


class MLPHead(WeightedHead):
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
    cv_groups : {"auto", "location", "none"}, default="auto"
        The inner folds' policy (see :class:`~avsc_sk.heads.InnerCVHead`).
    class_weight : "balanced", dict or None, default=None
        Sample weights of each class's weight (``"balanced"``: inversely to the class's
        frequency), in the inner CV and the final fit (scikit-learn 1.7 or later).

    Attributes
    ----------
    alpha_ : float
    cv_scores_ : list of dict
        One record per ``alpha`` tried, in the order tried (ascending): ``{"alpha": 0.01,
        "log_loss": 0.53}``, the mean inner log loss; empty when ``alpha`` was given.
    estimator_ : MLPClassifier
    n_iter_ : int
        Epochs of the final fit.
    classes_ : ndarray
    n_features_in_ : int
    """

    _chosen = {"alpha": "alpha_"}
    _grids = {"alpha": "alphas"}
    _parameter_constraints = {"alpha": [NON_NEGATIVE, None], "alphas": ["array-like"],
                              "hidden_layer_sizes": ["array-like"], "max_iter": [COUNT], "cv": [FOLDS],
                              "random_state": ["random_state"], "cv_groups": [StrOptions({"auto", "location", "none"})],
                              "class_weight": _CLASS_WEIGHT}

    def __init__(self, alpha=None, alphas=(1e-4, 1e-3, 1e-2, 1e-1, 1.0), hidden_layer_sizes=(256,), max_iter=200,
                 cv=3, random_state=0, cv_groups="auto", class_weight=None):
        self.alpha = alpha
        self.alphas = alphas
        self.hidden_layer_sizes = hidden_layer_sizes
        self.max_iter = max_iter
        self.cv = cv
        self.random_state = random_state
        self.cv_groups = cv_groups
        self.class_weight = class_weight

    def _model(self, alpha):
        # MLPClassifier's own early stopping holds out an ungrouped random split: off; max_iter bounds it.
        return MLPClassifier(hidden_layer_sizes=self.hidden_layer_sizes, alpha=alpha, max_iter=self.max_iter,
                             random_state=self.random_state)

    def _fit(self, X, y, groups, sample_weight=None):
        weighted = self.class_weight is not None or sample_weight is not None
        if weighted and "sample_weight" not in inspect.signature(MLPClassifier.fit).parameters:
            what = f"class_weight={self.class_weight!r}" if self.class_weight is not None else "sample_weight"
            raise ConfigError(f"{what}: the mlp head weighs samples through "
                              "MLPClassifier's sample_weight, which needs scikit-learn 1.7 or later; upgrade "
                              "scikit-learn, or use another head (logreg, linsvm, svm, lgbm, knn)")
        alpha = self.alpha
        if alpha is None:
            splits = self._inner_splits(y, groups)
            alpha = _choose(self, "alpha", self._model, sorted(float(a) for a in self.alphas), X, y, splits,
                            self.class_weight, sample_weight)
        else:
            self.cv_scores_ = []
        self.alpha_ = float(alpha)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # said below, once, in the house style
            self.estimator_ = _fit(self._model(self.alpha_), X, y, self.class_weight, sample_weight)
        self.n_iter_ = self.estimator_.n_iter_
        if self.n_iter_ >= self.max_iter:
            warnings.warn(f"the MLP head used all max_iter={self.max_iter} epochs without converging; raise its "
                          "max_iter (e.g. params.head__max_iter) if its probabilities look under-fitted",
                          MLPConvergenceWarning, stacklevel=3)


class LGBMHead(WeightedHead):
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
    cv_groups : {"auto", "location", "none"}, default="auto"
        The inner folds' policy (see :class:`~avsc_sk.heads.InnerCVHead`).
    class_weight : "balanced", dict or None, default=None
        LightGBM's own (the samples of each class weighted), for early stopping and the final fit.

    Attributes
    ----------
    n_estimators_ : int
    cv_scores_ : list of dict
        The early-stopped round, as the other heads record their candidates:
        ``[{"n_estimators": 57, "log_loss": 0.53}]`` (the validation fold's log loss there);
        empty when ``n_estimators`` was given or there were too few clips for a validation fold.
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
                              "random_state": ["random_state"], "cv_groups": [StrOptions({"auto", "location", "none"})], "n_jobs": [Integral, None],
                              "class_weight": _CLASS_WEIGHT}

    def __init__(self, n_estimators=None, learning_rate=0.05, num_leaves=15, colsample_bytree=0.3, subsample=0.8,
                 min_child_samples=20, max_rounds=1000, stopping_rounds=30, cv=5, random_state=0, n_jobs=1, cv_groups="auto",
                 class_weight=None):
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
        self.class_weight = class_weight

    def _model(self, n_estimators):
        return LGBMClassifier(n_estimators=n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
                              colsample_bytree=self.colsample_bytree, subsample=self.subsample, subsample_freq=1,
                              min_child_samples=self.min_child_samples, random_state=self.random_state,
                              n_jobs=self.n_jobs, class_weight=self.class_weight, verbose=-1)

    def _fit(self, X, y, groups, sample_weight=None):
        w = (lambda rows: None) if sample_weight is None else (lambda rows: sample_weight[rows])
        rounds = self.n_estimators
        self.cv_scores_ = []
        if rounds is None:
            rounds = 100  # too few clips for a validation fold: LightGBM's default
            splits = self._inner_splits(y, groups)
            if splits is not None:
                train, test = splits[0]
                if len(np.unique(y[train])) == len(self.classes_):
                    # Class codes, not labels: LightGBM 4.7 does not encode string labels given as eval_y.
                    codes = np.searchsorted(self.classes_, y)
                    held_out = {} if sample_weight is None else {"eval_sample_weight": [w(test)]}
                    model = self._model(self.max_rounds).fit(
                        X[train], codes[train], sample_weight=w(train), **_eval_data(X[test], codes[test]), **held_out,
                        callbacks=[early_stopping(self.stopping_rounds, verbose=False)])
                    rounds = max(1, int(model.best_iteration_ or self.max_rounds))
                    # LightGBM's objective's log loss (binary_logloss or multi_logloss) at that round.
                    (loss,) = next(iter(model.best_score_.values())).values()
                    self.cv_scores_ = [{"n_estimators": rounds, "log_loss": float(loss)}]
        self.n_estimators_ = int(rounds)
        self.estimator_ = self._model(self.n_estimators_).fit(X, y, sample_weight=sample_weight)
