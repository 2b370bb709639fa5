"""The one splitter policy of avsc-sk: folds grouped by recording location, stratified by class.

Every internal or inner cross-validation (tune, late and weighted fusion's out-of-fold
probabilities, the MLP's early-stopping hold-out, heads that choose their own
hyper-parameters) asks this module for its folds, so there is one policy to check.
"""

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

__all__ = ["check_cv_splits"]


def check_cv_splits(y, groups=None, *, n_splits=5, random_state=0):
    """Folds as a list of ``(train_index, test_index)`` arrays.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (stratification).
    groups : array-like of shape (n_samples,), optional
        Recording location of each sample; no group is on both sides of a fold.
    n_splits : int, default=5
    random_state : int or None, default=0
        Seed of the shuffled fold assignment.

    Returns
    -------
    list of (ndarray, ndarray)
    """
    y = np.asarray(y)
    if groups is None:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        return list(splitter.split(np.zeros(len(y)), y))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(len(y)), y, np.asarray(groups)))
