"""Estimators and fusion: single-modality, early, intermediate, late and weighted fusion."""

from ._early import make_feature_pipeline, make_modality_features, modality_columns
from ._registry import FUSIONS, make_estimator

__all__ = ["FUSIONS", "make_estimator", "make_feature_pipeline", "make_modality_features", "modality_columns"]
