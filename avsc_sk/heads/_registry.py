"""The named classifier heads every fusion mode can end in."""

from sklearn.base import clone

from ..errors import ConfigError
from ._logreg import LogisticRegressionHead
from ._others import KNNHead, LGBMHead, MLPHead
from ._svm import SVMHead

__all__ = ["HEADS", "class_weight_params", "make_head"]

# Every head leaves its regularisation / capacity to the data (None: chosen on grouped inner
# folds); a config or --set that gives a value (head__C = 0.01) fixes it.
_FACTORIES = {
    "logreg": lambda seed: LogisticRegressionHead(random_state=seed),
    "linsvm": lambda seed: SVMHead(kernel="linear", random_state=seed),
    "svm": lambda seed: SVMHead(kernel="rbf", random_state=seed),
    "lgbm": lambda seed: LGBMHead(random_state=seed),
    "knn": lambda seed: KNNHead(random_state=seed),
    "mlp": lambda seed: MLPHead(random_state=seed),
}

#: Names accepted by :func:`make_head` and ``--model``.
HEADS = tuple(_FACTORIES)


def make_head(name="logreg", *, random_state=0):
    """A fresh, unfitted classifier head by name.

    Every named head chooses its own regularisation or capacity from the training data, by a
    log-loss inner cross-validation grouped by recording location (``fit(X, y, groups=...)``;
    a Pipeline routes ``groups`` to it, see :func:`fit_with_groups`), unless that parameter is
    given: the chosen value is a fitted attribute (``C_``, ``n_neighbors_``, ...; all of them
    in ``chosen_``).

    Parameters
    ----------
    name : {"logreg", "linsvm", "svm", "lgbm", "knn", "mlp"} or classifier, default="logreg"
        ``logreg``: multinomial logistic regression (``C`` chosen along a warm-started path);
        ``linsvm`` / ``svm``: linear / RBF SVM with temperature-scaled probabilities (``C``, and
        ``gamma`` for RBF); ``lgbm``: LightGBM (rounds by early stopping on a grouped fold);
        ``knn``: distance-weighted nearest neighbours (``n_neighbors``); ``mlp``: scikit-learn's
        one-hidden-layer MLP (``alpha``). An unfitted classifier with ``predict_proba`` is used
        as it is (cloned).
    random_state : int or None, default=0
        Seed of the inner folds and of heads that use randomness.

    Returns
    -------
    estimator : scikit-learn classifier with ``predict_proba``
        Fix a value through the pipeline, e.g. ``head__C=0.01`` or ``audio__head__n_neighbors=25``.
    """
    if hasattr(name, "predict_proba") and hasattr(name, "get_params"):
        return clone(name)
    try:
        factory = _FACTORIES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown model {name!r}; expected one of {', '.join(HEADS)}") from None
    return factory(random_state)


def class_weight_params(estimator, class_weight="balanced"):
    """The ``set_params`` keys that give every head inside ``estimator`` this ``class_weight``.

    Every named head takes one (logreg and the SVMs weigh each class's loss, lgbm its samples,
    mlp its samples through ``sample_weight``, knn each neighbour's vote), and so does
    intermediate fusion's network (its cross-entropy). A head is a step named ``head`` (or an
    estimator inside it, ``head__estimator``); the keys are ordinary estimator parameters,
    e.g. ``head__class_weight`` for early fusion, ``audio__head__class_weight`` and
    ``video__head__class_weight`` for late fusion, ``class_weight`` for intermediate fusion,
    so a config holding them reproduces the model. Late fusion's stacker and weighted
    fusion's blend learn from the weighted heads' probabilities unweighted.

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
        If nothing in ``estimator`` takes a ``class_weight`` (a custom head without one).
    """
    params = estimator.get_params(deep=True)
    keys = [k for k in params
            if k == "head__class_weight" or k.endswith(("__head__class_weight", "head__estimator__class_weight"))]
    if not keys and "class_weight" in estimator.get_params(deep=False):
        keys = ["class_weight"]  # intermediate fusion: the network is its own head
    if not keys:
        raise ConfigError(f"{type(estimator).__name__} has no head with a class_weight parameter (a custom head "
                          "without one?): give it a head that takes class_weight, or leave out --class-weight")
    return dict.fromkeys(keys, class_weight)
