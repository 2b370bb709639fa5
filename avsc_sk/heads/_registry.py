"""The named classifier heads every fusion mode can end in."""

from sklearn.base import clone

from ..errors import ConfigError
from ._logreg import LogisticRegressionHead
from ._others import KNNHead, LGBMHead, MLPHead
from ._svm import SVMHead

__all__ = ["HEADS", "make_head"]

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
