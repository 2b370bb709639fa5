"""Experiments over the estimators, by their public API only: comparison of the fusion modes, automatic selection."""

from ._auto import CANDIDATE_COLUMNS, AutoFusionClassifier, AutoSelectionWarning, format_candidates, selection_summary
from ._budget import afford, estimate_fit_seconds, halving_schedule
from ._conformal import calibration_probabilities
from ._compare import COMPARE_COLUMNS, compare_fusions, format_compare

__all__ = [
    "CANDIDATE_COLUMNS",
    "COMPARE_COLUMNS",
    "afford",
    "AutoFusionClassifier",
    "AutoSelectionWarning",
    "calibration_probabilities",
    "compare_fusions",
    "estimate_fit_seconds",
    "format_compare",
    "format_candidates",
    "halving_schedule",
    "selection_summary",
]
