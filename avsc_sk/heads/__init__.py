"""Classifier heads that choose their own regularisation on location-grouped inner folds."""

from ._base import InnerCVHead, UngroupedWarning, chosen_params, fit_with_groups, narrowed_grids, takes_groups
from ._logreg import LogisticRegressionHead
from ._others import KNNHead, LGBMHead, MLPConvergenceWarning, MLPHead
from ._registry import HEADS, class_weight_params, make_head
from ._svm import SVMHead

__all__ = [
    "HEADS",
    "InnerCVHead",
    "KNNHead",
    "LGBMHead",
    "LogisticRegressionHead",
    "MLPConvergenceWarning",
    "MLPHead",
    "SVMHead",
    "UngroupedWarning",
    "chosen_params",
    "class_weight_params",
    "fit_with_groups",
    "make_head",
    "narrowed_grids",
    "takes_groups",
]
