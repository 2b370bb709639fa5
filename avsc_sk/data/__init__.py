"""Data in: clip names, feature files in every supported layout, and their validation."""

from ._clipname import SCENES, ClipName, label_index, parse_stem, scene_of_index, stem_of
from ._featureset import FeatureSet, concat_featuresets
from ._features import convert_features, detect_layout, list_splits, read_features, write_features

__all__ = [
    "SCENES",
    "ClipName",
    "FeatureSet",
    "concat_featuresets",
    "convert_features",
    "detect_layout",
    "label_index",
    "list_splits",
    "parse_stem",
    "read_features",
    "scene_of_index",
    "stem_of",
    "write_features",
]
