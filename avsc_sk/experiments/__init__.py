"""Experiments over the estimators: automatic selection of the fusion mode and head, by their public API only."""

from ._auto import CANDIDATE_COLUMNS, AutoFusionClassifier, AutoSelectionWarning, format_candidates, selection_summary
from ._budget import afford, estimate_fit_seconds, halving_schedule

__all__ = [
    "CANDIDATE_COLUMNS",
    "afford",
    "AutoFusionClassifier",
    "AutoSelectionWarning",
    "estimate_fit_seconds",
    "format_candidates",
    "halving_schedule",
    "selection_summary",
]
