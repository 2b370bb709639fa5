"""Cross-validation splitting: the one place that decides how clips are split into folds."""

from ._splits import check_cv_splits

__all__ = ["check_cv_splits"]
