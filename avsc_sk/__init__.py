"""avsc-sk: classical, fast, trustworthy baselines for audio-visual scene classification.

The public API, by concept (each also importable from its subpackage):

- data in: :class:`FeatureSet`, :func:`read_features`, :func:`write_features`, :func:`convert_features`
- built-in data: :func:`load_fold1_metadata`, :func:`make_tau_like`, :func:`load_tau_like`
- estimators: :class:`FramePooler`, :class:`SegmentClassifier`, :func:`make_head`, :func:`make_estimator`,
  :class:`LateFusionClassifier`, :class:`WeightedFusionClassifier`, :class:`IntermediateFusionClassifier`
- evaluation and reports: :func:`score`, :func:`format_scoring`, :func:`compare_fusions`, :func:`build_report`
- runs: :func:`fit_run`, :func:`save_run`, :func:`load_run`, :func:`predict_frame`
"""

__version__ = "0.1.0"

import importlib

from .errors import AvscError

#: Where each public name lives; imported on first use, so ``import avsc_sk`` (and ``avsc-sk --help``) stays
#: quick and pulls in scikit-learn only when a command needs it.
_SOURCES = {
    "FramePooler": "_pooling", "SegmentClassifier": "_pooling",
    "SCENES": "data", "FeatureSet": "data", "convert_features": "data", "read_features": "data",
    "write_features": "data",
    "load_fold1_metadata": "datasets", "make_tau_like": "datasets", "load_tau_like": "datasets",
    "format_scoring": "evaluation", "prediction_frame": "evaluation", "read_prediction": "evaluation",
    "score": "evaluation", "write_prediction": "evaluation",
    "IntermediateFusionClassifier": "fusion", "LateFusionClassifier": "fusion", "WeightedFusionClassifier": "fusion",
    "make_estimator": "fusion",
    "compare_fusions": "experiments",
    "make_head": "heads",
    "fit_run": "runs", "save_run": "runs", "load_run": "runs", "predict_frame": "runs",
    "build_report": "report", "write_report": "report",
}

__all__ = [
    "SCENES",
    "AvscError",
    "FeatureSet",
    "FramePooler",
    "IntermediateFusionClassifier",
    "LateFusionClassifier",
    "SegmentClassifier",
    "WeightedFusionClassifier",
    "__version__",
    "compare_fusions",
    "convert_features",
    "format_scoring",
    "load_fold1_metadata",
    "make_estimator",
    "make_head",
    "prediction_frame",
    "read_features",
    "read_prediction",
    "score",
    "write_features",
    "write_prediction",
]


def __getattr__(name):
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'avsc_sk' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{source}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_SOURCES})
