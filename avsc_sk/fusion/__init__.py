"""Estimators and fusion: single-modality, early, intermediate, late and weighted fusion."""

from ._base import MEMBER_TUNING, fit_member, fit_members, fixed_member, fold_proba, grouped_splits
from ._distill import DISTILL_ALPHA, DistilledClassifier, soft_target_rows
from ._early import (make_feature_pipeline, make_modality_features, make_modality_pipeline, make_pooler,
                     modality_columns)
from ._intermediate import IntermediateFusionClassifier
from ._late import LateFusionClassifier
from ._missing import FeaturePipeline, MissingModalityWarning, NoModalityWarning, class_prior
from ._registry import FUSION_MODES, FUSIONS, NETWORK, make_estimator, model_name
from ._weighted import BLENDS, WeightedFusionClassifier

__all__ = [
    "BLENDS",
    "FeaturePipeline",
    "MissingModalityWarning",
    "NoModalityWarning",
    "class_prior",
    "DISTILL_ALPHA",
    "DistilledClassifier",
    "soft_target_rows",
    "FUSIONS",
    "FUSION_MODES",
    "MEMBER_TUNING",
    "IntermediateFusionClassifier",
    "NETWORK",
    "LateFusionClassifier",
    "WeightedFusionClassifier",
    "fit_member",
    "fit_members",
    "fixed_member",
    "fold_proba",
    "grouped_splits",
    "make_estimator",
    "model_name",
    "NETWORK",
    "make_feature_pipeline",
    "make_modality_features",
    "make_modality_pipeline",
    "make_pooler",
    "modality_columns",
]
