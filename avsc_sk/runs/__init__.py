"""Run directories: fit a configured estimator, save it safely, load it back, predict.

- :mod:`._build`: the estimator a configuration describes, and fitting it on a FeatureSet;
- :mod:`._fit`: :func:`fit_run`, a fitted model and its manifest;
- :mod:`._score`: probabilities in the run's label space, scores and their warnings;
- :mod:`._store`: the run directory on disk, its trust policy (skops, pickles) and :class:`Run`;
- :mod:`._predict`: features checked against a run, and its predictions.
"""

from ._build import build_estimator, fit_estimator, read_stats, teacher_stats, with_class_weight
from ._fit import calibrate_run, fit_run
from ._predict import check_features, feature_warnings, predict_frame, run_calibration
from ._score import (format_scores, no_modality_warning, partial_summary, predict_proba_scenes, run_modalities, score_label,
                     score_model, scoring_warnings)
from ._store import TRUSTED_MODULES, TRUSTED_TYPES, Run, load_run, run_stats, save_run

__all__ = ["Run", "TRUSTED_MODULES", "TRUSTED_TYPES", "build_estimator", "with_class_weight", "fit_estimator",
           "fit_run", "calibrate_run", "save_run", "load_run",
           "predict_proba_scenes", "predict_frame", "run_calibration", "check_features", "feature_warnings", "scoring_warnings",
           "no_modality_warning", "run_modalities", "partial_summary",
           "score_label", "score_model", "format_scores", "read_stats", "run_stats", "teacher_stats"]
