"""Pieces shared by the late, weighted and intermediate fusion estimators."""

import numbers

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import ConfigError, DataError

__all__ = ["grouped_splits", "estimator_columns", "missing_mask", "default_estimators", "check_estimators"]


def grouped_splits(X, y, groups=None, cv=5, random_state=None):
    """Materialise the internal cross-validation folds as a list of ``(train, test)`` index arrays.

    With ``groups`` (the recording location of each clip) the folds are a
    ``StratifiedGroupKFold``: no location is on both sides of a fold, so out-of-fold
    probabilities are not inflated by clips from the same place, and classes stay balanced.
    Without groups a ``StratifiedKFold`` is used; it is only leak-free when clips are
    independent, which TAU clips are not.

    Parameters
    ----------
    X, y : array-like
    groups : array-like, optional
    cv : int or cross-validation splitter, default=5
        An int is the number of folds (capped at the number of groups); a splitter is used
        as given with ``split(X, y, groups)``.
    random_state : int or None, default=None
        Shuffles the fold assignment when set; ``None`` keeps it deterministic and unshuffled.

    Returns
    -------
    list of (ndarray, ndarray)
    """
    if not isinstance(cv, numbers.Integral):
        if not hasattr(cv, "split"):
            raise ConfigError(f"cv={cv!r}: expected a number of folds or a splitter with split()")
        return [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
    if cv < 2:
        raise ConfigError(f"cv={cv}: internal cross-validation needs at least 2 folds")
    shuffle = random_state is not None
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != len(y):
            raise DataError(f"{len(groups)} groups for {len(y)} clips; pass one recording location per clip")
        n_groups = len(np.unique(groups))
        if n_groups < 2:
            raise DataError(f"groups hold {n_groups} distinct location(s); grouped cross-validation needs 2 or more")
        splitter = StratifiedGroupKFold(n_splits=min(int(cv), n_groups), shuffle=shuffle,
                                        random_state=random_state if shuffle else None)
        return [(tr, te) for tr, te in splitter.split(X, y, groups)]
    splitter = StratifiedKFold(n_splits=int(cv), shuffle=shuffle, random_state=random_state if shuffle else None)
    return [(tr, te) for tr, te in splitter.split(X, y)]


def estimator_columns(estimator, n_features):
    """The columns of X an estimator reads.

    A pipeline made by :func:`make_feature_pipeline` starts with a ColumnTransformer that
    selects its own modality blocks; any other estimator is taken to read every column.
    """
    first = estimator.steps[0][1] if isinstance(estimator, Pipeline) else None
    if isinstance(first, ColumnTransformer):
        idx = np.arange(n_features)
        used = [idx[cols] for _, trans, cols in first.transformers if not (isinstance(trans, str) and trans == "drop")]
        if used:
            return np.unique(np.concatenate([np.atleast_1d(u) for u in used]))
    return np.arange(n_features)


def missing_mask(X, column_sets):
    """Boolean ``(n_clips, n_sets)``: True where every column of that set is NaN (a missing modality)."""
    out = np.zeros((X.shape[0], len(column_sets)), dtype=bool)
    for k, cols in enumerate(column_sets):
        block = X[:, cols[0]:cols[-1] + 1] if _contiguous(cols) else X[:, cols]
        out[:, k] = np.isnan(block).all(axis=1) if block.shape[1] else False
    return out


def _contiguous(cols):
    return len(cols) > 0 and cols[-1] - cols[0] + 1 == len(cols)


def default_estimators(random_state=None):
    """One imputed, scaled logistic regression over all columns: what ``estimators=None`` means."""
    return [("all", make_pipeline(SimpleImputer(keep_empty_features=True), StandardScaler(),
                                  LogisticRegression(max_iter=1000, random_state=random_state)))]


def check_estimators(estimators, random_state=None):
    """Validate a StackingClassifier-style ``[(name, estimator), ...]`` list; ``None`` gives the default."""
    if estimators is None:
        return default_estimators(random_state)
    estimators = list(estimators)
    if not estimators:
        raise ConfigError("estimators is empty; pass [(modality_name, pipeline), ...]")
    names = []
    for item in estimators:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise ConfigError(f"estimators entry {item!r}: expected a (name, estimator) pair")
        if not hasattr(item[1], "predict_proba"):
            raise ConfigError(f"estimator {item[0]!r} has no predict_proba; fusion blends probabilities")
        names.append(item[0])
    if len(set(names)) != len(names):
        raise ConfigError(f"duplicate estimator names {names}; name each modality once")
    return estimators


def check_missing(missing, what):
    """Refuse clips that lack every modality: no fusion mode can predict them."""
    none = missing.all(axis=1)
    if none.any():
        raise DataError(f"{int(none.sum())} clip(s) have no modality at all (every block NaN); "
                        f"{what} needs at least one present modality per clip")


def stack_features(probas, n_classes):
    """Concatenate per-modality probabilities as StackingClassifier does (binary: drop column 0)."""
    return np.hstack([p[:, 1:] if n_classes == 2 else p for p in probas])
