"""The named classifier heads every fusion mode can end in."""

from lightgbm import LGBMClassifier
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC, LinearSVC

from .errors import ConfigError

__all__ = ["HEADS", "class_weight_params", "make_head"]


def _logreg(random_state):
    # Strong regularisation: on ~1,000 standardised embedding dimensions and a few thousand
    # clips, C=1 fits the training locations and is badly over-confident (synthetic fold1:
    # early fusion log loss 1.08 at C=1, 0.47 at C=0.003, with higher accuracy too).
    return LogisticRegression(C=0.01, max_iter=1000, random_state=random_state)


def _linsvm(random_state):
    # SVMs give no probabilities of their own; sigmoid calibration on internal folds
    # replaces the deprecated SVC(probability=True) and its hidden Platt CV.
    return CalibratedClassifierCV(LinearSVC(C=0.01, random_state=random_state), method="sigmoid", cv=3)


def _svm(random_state):
    return CalibratedClassifierCV(SVC(C=1.0, kernel="rbf", random_state=random_state), method="sigmoid", cv=3)


def _lgbm(random_state):
    # One thread: deterministic, and no oversubscription under joblib-parallel searches.
    return LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=15, colsample_bytree=0.3,
                          subsample=0.8, subsample_freq=1, min_child_samples=20,
                          random_state=random_state, n_jobs=1, verbose=-1)


def _knn(random_state):
    return KNeighborsClassifier(n_neighbors=25, weights="distance")


def _mlp(random_state):
    return MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-2, early_stopping=True, max_iter=200,
                         random_state=random_state)


_FACTORIES = {"logreg": _logreg, "linsvm": _linsvm, "svm": _svm, "lgbm": _lgbm, "knn": _knn, "mlp": _mlp}

#: Names accepted by :func:`make_head` and ``--model``.
HEADS = tuple(_FACTORIES)


def make_head(name="logreg", *, random_state=0):
    """A fresh, unfitted classifier head by name.

    Parameters
    ----------
    name : {"logreg", "linsvm", "svm", "lgbm", "knn", "mlp"} or classifier, default="logreg"
        ``logreg``: multinomial logistic regression; ``linsvm`` / ``svm``: linear / RBF SVM with
        sigmoid-calibrated probabilities; ``lgbm``: LightGBM gradient boosting; ``knn``:
        distance-weighted nearest neighbours; ``mlp``: scikit-learn's one-hidden-layer MLP.
        An unfitted classifier with ``predict_proba`` is used as it is (cloned).
    random_state : int or None, default=0
        Seed for heads that use randomness.

    Returns
    -------
    estimator : scikit-learn classifier with ``predict_proba``
        Tune it through the pipeline, e.g. ``head__C`` or ``head__estimator__C`` for the SVMs.
    """
    if hasattr(name, "predict_proba") and hasattr(name, "get_params"):
        return clone(name)
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; expected one of {', '.join(HEADS)}") from None
    return factory(random_state)


def class_weight_params(estimator, class_weight="balanced"):
    """The ``set_params`` keys that give every head inside ``estimator`` this ``class_weight``.

    A head is a step named ``head`` (or the SVM inside its calibration, ``head__estimator``);
    the keys are ordinary estimator parameters, e.g. ``head__class_weight`` for early fusion or
    ``audio__head__class_weight`` and ``video__head__class_weight`` for late fusion, so a
    config holding them reproduces the model.

    Parameters
    ----------
    estimator : estimator
        An unfitted estimator of :func:`avsc_sk.make_estimator` (or a pipeline holding heads).
    class_weight : "balanced", dict or None, default="balanced"

    Returns
    -------
    dict

    Raises
    ------
    ConfigError
        If no head of ``estimator`` takes a ``class_weight`` (``knn``, ``mlp``, intermediate fusion).
    """
    keys = [k for k in estimator.get_params(deep=True)
            if k == "head__class_weight" or k.endswith(("__head__class_weight", "head__estimator__class_weight"))]
    if not keys:
        raise ConfigError(f"{type(estimator).__name__} has no head with a class_weight parameter (knn, mlp and "
                          "intermediate fusion have none); choose --model logreg, linsvm, svm or lgbm, "
                          "or leave out --class-weight")
    return dict.fromkeys(keys, class_weight)
