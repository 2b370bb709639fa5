"""Data in: clip names, clip metadata tables, feature files in every supported layout, pooling while reading,
and their validation."""

from ._clipname import SCENES, ClipName, label_index, parse_stem, scene_of_index, stem_of
from ._detect import SPLITS, canonical_split, parse_splits
from ._featureset import FeatureSet, concat_featuresets
from ._features import convert_features, detect_layout, list_splits, read_features, write_features
from ._meta import META_COLUMNS, apply_meta, read_meta
from ._pool import POOLING_STATS, check_stat_names, missing_mask, missing_rows, pool_frames, stat_names
from ._summary import summarize_features

__all__ = [
    "META_COLUMNS",
    "POOLING_STATS",
    "SCENES",
    "SPLITS",
    "ClipName",
    "FeatureSet",
    "apply_meta",
    "canonical_split",
    "check_stat_names",
    "concat_featuresets",
    "convert_features",
    "detect_layout",
    "label_index",
    "list_splits",
    "missing_mask",
    "missing_rows",
    "parse_splits",
    "parse_stem",
    "pool_frames",
    "read_meta",
    "read_features",
    "scene_of_index",
    "stat_names",
    "stem_of",
    "summarize_features",
    "write_features",
]
