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

from ._pooling import FramePooler, SegmentClassifier  # noqa: E402
from .data import SCENES, FeatureSet, convert_features, read_features, write_features  # noqa: E402
from .datasets import load_fold1_metadata  # noqa: E402
from .errors import AvscError  # noqa: E402
from .evaluation import format_scoring, prediction_frame, read_prediction, score, write_prediction  # noqa: E402
from .fusion import (  # noqa: E402
    IntermediateFusionClassifier,
    LateFusionClassifier,
    WeightedFusionClassifier,
    compare_fusions,
    make_estimator,
)
from .heads import make_head  # noqa: E402

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
    # Heavier pieces load on first use, keeping `import avsc_sk` (and every CLI start) quick.
    if name in ("make_tau_like", "load_tau_like"):
        from . import datasets

        return getattr(datasets, name)
    if name in ("fit_run", "save_run", "load_run", "predict_frame"):
        from . import runs

        return getattr(runs, name)
    if name in ("build_report", "write_report"):
        from . import report

        return getattr(report, name)
    raise AttributeError(f"module 'avsc_sk' has no attribute {name!r}")
