"""Cross-validation splitting: the one place that decides how clips are split into folds."""

from ._splits import (CV_GROUPS, OPTIMISTIC, CVPlan, LocationKFold, check_cv_groups, check_cv_splits,
                      check_holdout_split, cv_fallbacks, cv_plan, set_cv_groups)

__all__ = ["CV_GROUPS", "OPTIMISTIC", "CVPlan", "LocationKFold", "check_cv_groups", "check_cv_splits",
           "check_holdout_split", "cv_fallbacks", "cv_plan", "set_cv_groups"]
