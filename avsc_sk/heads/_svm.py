"""Linear and RBF support vector machines with multiclass-calibrated probabilities, ``C`` (and ``gamma``) chosen on grouped folds."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC, LinearSVC

from .._sklearn_private import StrOptions
from ..errors import ConfigError

from ._base import COUNT, FOLDS, POSITIVE, InnerCVHead, fold_log_loss

__all__ = ["SVMHead"]

_DEFAULT_CS = {"linear": tuple(float(c) for c in np.logspace(-4, 1, 6)), "rbf": (0.1, 1.0, 10.0, 100.0)}


def _scores(model, X):
    """Decision values as a 2-D matrix (one-vs-one pairs for SVC, one-vs-rest for LinearSVC)."""
    D = model.decision_function(X)
    return D[:, None] if D.ndim == 1 else D


def _calibrator(class_weight=None):
    return LogisticRegression(C=1.0, max_iter=1000, class_weight=class_weight)


class SVMHead(InnerCVHead):
    """A support vector machine with multiclass-calibrated probabilities, regularised by the data.

    The probabilities are a multinomial logistic regression on the SVM's decision values
    (``calibrator_``; one-vs-one pair margins for the RBF kernel, as ``SVC(probability=True)``
    couples pairs, one-vs-rest margins for the linear one), fitted on out-of-fold decision
    values over inner folds grouped by ``groups`` (the recording locations), so no sample
    calibrates a model that saw it. One-vs-rest sigmoids, calibrated class by class, can give
    the true class a near-zero probability; a single temperature over SVC's one-vs-rest scores
    (vote counts) is too coarse. On ``load_digits`` (1,000 train / 797 test samples, standardised,
    ``SVC(C=10)``): log loss 0.275 for this calibration, 0.47 for one-vs-rest sigmoids, 0.56 for
    a temperature, 0.25 for the deprecated ``SVC(probability=True)``. The same out-of-fold log loss
    chooses ``C`` (ascending, stopping ``patience`` values past the best) and then, for the RBF
    kernel, ``gamma``.

    Parameters
    ----------
    kernel : {"rbf", "linear"}, default="rbf"
        ``linear`` is a :class:`~sklearn.svm.LinearSVC`, ``rbf`` an :class:`~sklearn.svm.SVC`.
    C : float, optional
        Fixed; ``None`` chooses it from ``Cs``.
    gamma : float or "scale", optional
        RBF only. Fixed; ``None`` chooses it among ``gamma_scales`` times scikit-learn's
        ``"scale"`` value ``1 / (n_features * X.var())``.
    Cs : sequence of float, optional
        Candidates for ``C``; ``None``: 1e-4 ... 10 (linear) or 0.1 ... 100 (rbf), by decades.
    gamma_scales : sequence of float, default=(1/3, 1, 3)
    cv : int, default=5
        Inner folds (fewer when a class or the locations cannot fill them).
    patience : int, default=1
    random_state : int or None, default=0
        Seed of the inner fold assignment and of LinearSVC.
    cv_groups : {"auto", "location", "none"}, default="auto"
        The inner folds' policy (see :class:`~avsc_sk.heads.InnerCVHead`).
    class_weight : "balanced", dict or None, default=None
        As the SVM's own (each class's ``C`` scaled by its weight), and the calibrator's, so
        the probabilities keep the balanced priors too.

    Attributes
    ----------
    C_ : float
    gamma_ : float or None
        The RBF width used (``None`` for the linear kernel).
    calibrator_ : LogisticRegression
        Maps decision values to probabilities; fitted on the out-of-fold decision values.
    cv_scores_ : list of dict
        One record per candidate tried, in the order tried: ``{"C": 1.0, "gamma": 0.01,
        "log_loss": 0.53}`` (the out-of-fold calibrated log loss; ``gamma`` is ``None`` for the
        linear kernel). Plain records, as every head keeps them, so that skops saves and
        restores them as they are (a dict keyed by ``(C, gamma)`` tuples cannot be written).
    estimator_ : LinearSVC or SVC
        Fitted on all the data.
    classes_ : ndarray
    n_features_in_ : int
    """

    _chosen = {"C": "C_", "gamma": "gamma_"}
    # gamma is chosen as a multiple of the data's scale, which moves with the clips: not narrowed.
    _grids = {"C": "Cs"}
    _parameter_constraints = {"kernel": [StrOptions({"rbf", "linear"})], "C": [POSITIVE, None],
                              "gamma": [POSITIVE, StrOptions({"scale"}), None], "Cs": ["array-like", None],
                              "gamma_scales": ["array-like"], "cv": [FOLDS], "patience": [COUNT],
                              "random_state": ["random_state"], "cv_groups": [StrOptions({"auto", "location", "none"})],
                              "class_weight": [StrOptions({"balanced"}), dict, None]}

    def __init__(self, kernel="rbf", C=None, gamma=None, Cs=None, gamma_scales=(1 / 3, 1.0, 3.0), cv=5, patience=1,
                 random_state=0, cv_groups="auto", class_weight=None):
        self.kernel = kernel
        self.C = C
        self.gamma = gamma
        self.Cs = Cs
        self.gamma_scales = gamma_scales
        self.cv = cv
        self.patience = patience
        self.random_state = random_state
        self.cv_groups = cv_groups
        self.class_weight = class_weight

    def _model(self, C, gamma):
        if self.kernel == "linear":
            return LinearSVC(C=C, random_state=self.random_state, class_weight=self.class_weight)
        return SVC(C=C, kernel="rbf", gamma=gamma, decision_function_shape="ovo", class_weight=self.class_weight)

    def _oof(self, X, y, splits, C, gamma):
        """Out-of-fold calibrated log loss of one candidate, and its calibrator."""
        n_classes = len(self.classes_)
        width = 1 if n_classes == 2 else n_classes * (n_classes - 1) // 2 if self.kernel == "rbf" else n_classes
        D = np.zeros((len(y), width))
        for train, test in splits:
            if len(np.unique(y[train])) < n_classes:
                continue  # a fold without some class: its clips get uninformative (zero) margins
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = self._model(C, gamma).fit(X[train], y[train])
            D[test] = _scores(model, X[test])
        calibrator = _calibrator(self.class_weight).fit(D, y)
        return fold_log_loss(y, calibrator.predict_proba(D), self.classes_), calibrator

    def _grid_values(self, name):
        return sorted(float(c) for c in (_DEFAULT_CS.get(self.kernel, ()) if self.Cs is None else self.Cs))

    def _fit(self, X, y, groups):
        if self.kernel not in ("rbf", "linear"):
            raise ConfigError(f"kernel={self.kernel!r}: expected 'rbf' or 'linear'")
        scale = 1.0 / (X.shape[1] * X.var()) if X.var() > 0 else 1.0
        gamma = None if self.kernel == "linear" else scale if self.gamma in (None, "scale") else float(self.gamma)
        Cs = sorted(float(c) for c in (_DEFAULT_CS[self.kernel] if self.Cs is None else self.Cs))
        C = Cs[len(Cs) // 2] if self.C is None else float(self.C)
        splits = self._inner_splits(y, groups)
        tried = {}  # (C, gamma) -> (out-of-fold log loss, calibrator), in the order tried

        def score(c, g):
            if (c, g) not in tried:
                tried[(c, g)] = self._oof(X, y, splits, c, g)
            return tried[(c, g)][0]

        if splits is not None:
            if self.C is None:
                losses = []
                for c in Cs:  # ascending: the weakly regularised fits are the slow ones
                    losses.append(score(c, gamma))
                    if len(losses) - 1 - int(np.argmin(losses)) >= self.patience:
                        break
                C = Cs[int(np.argmin(losses))]
            if self.kernel == "rbf" and self.gamma is None:
                gamma = min((scale * s for s in self.gamma_scales), key=lambda g: score(C, g))
            score(C, gamma)  # everything given: the calibrator still needs the folds
        self.cv_scores_ = [{"C": c, "gamma": g, "log_loss": loss} for (c, g), (loss, _) in tried.items()]
        self.C_, self.gamma_ = C, gamma
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimator_ = self._model(C, gamma).fit(X, y)
        # Too few samples for inner folds: calibrated on the training margins themselves.
        self.calibrator_ = tried[(C, gamma)][1] if tried else _calibrator(self.class_weight).fit(
            _scores(self.estimator_, X), y)

    def _predict_proba(self, X):
        return self.calibrator_.predict_proba(_scores(self.estimator_, X))
