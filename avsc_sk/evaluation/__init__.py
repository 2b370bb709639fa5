"""Evaluation: prediction files, the reference scoring, bootstrap intervals, McNemar, calibration.

Everything here works on prediction frames (see :func:`prediction_frame`), so it is
independent of the model that made them.
"""

from ._calibration import brier_score, expected_calibration_error, reliability_table
from ._conformal import (
    COVERAGE_BY,
    SET_SEPARATOR,
    calibration_record,
    check_coverage,
    check_coverage_by,
    conformal_quantile,
    coverage_table,
    format_sets,
    nonconformity,
    parse_sets,
    prediction_sets,
    set_sizes,
)
from ._robustness import SHARES, SNRS_DB, plot_robustness, robustness_table
from ._metrics import (
    balanced_accuracy,
    LOG_LOSS,
    LOG_LOSS_REF,
    exact_log_loss,
    format_scoring,
    per_class_table,
    reference_log_loss,
    score,
    unpack_predictions,
    unseen_class_warning,
)
from ._predictions import (
    DATA_COLUMN,
    PREDICTION_COLUMNS,
    SET_COLUMN,
    attach_labels,
    classes_of,
    prediction_frame,
    proba_of,
    read_labels,
    read_prediction,
    write_prediction,
)
from ._stats import bootstrap_ci, holm, mcnemar, paired_bootstrap_diff

__all__ = [
    "SHARES",
    "SNRS_DB",
    "plot_robustness",
    "robustness_table",
    "COVERAGE_BY",
    "DATA_COLUMN",
    "SET_COLUMN",
    "SET_SEPARATOR",
    "calibration_record",
    "check_coverage",
    "check_coverage_by",
    "conformal_quantile",
    "coverage_table",
    "format_sets",
    "nonconformity",
    "parse_sets",
    "prediction_sets",
    "set_sizes",
    "LOG_LOSS",
    "LOG_LOSS_REF",
    "PREDICTION_COLUMNS",
    "attach_labels",
    "balanced_accuracy",
    "bootstrap_ci",
    "brier_score",
    "classes_of",
    "exact_log_loss",
    "expected_calibration_error",
    "format_scoring",
    "holm",
    "mcnemar",
    "paired_bootstrap_diff",
    "per_class_table",
    "prediction_frame",
    "proba_of",
    "read_labels",
    "read_prediction",
    "reference_log_loss",
    "reliability_table",
    "score",
    "unpack_predictions",
    "unseen_class_warning",
    "write_prediction",
]
