"""Data in: clip names, feature files in every supported layout, and their validation."""

from ._clipname import SCENES, ClipName, label_index, parse_stem, scene_of_index, stem_of
from ._featureset import FeatureSet, concat_featuresets

__all__ = [
    "SCENES",
    "ClipName",
    "FeatureSet",
    "concat_featuresets",
    "label_index",
    "parse_stem",
    "scene_of_index",
    "stem_of",
]
