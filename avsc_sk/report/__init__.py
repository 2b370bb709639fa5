"""Reports on one or more runs: tables, conflict analysis, plots, and Markdown/HTML/JSON output.

Everything is built from prediction frames (see :func:`avsc_sk.evaluation.prediction_frame`),
so a report does not depend on the models that made them::

    report = build_report({"early": early_frame, "audio": audio_frame, "video": video_frame})
    report.tables["side_by_side"]          # DataFrames, for notebooks
    write_report(report, "reports/fusion")  # per_class.csv/.md, *.png, report.md/.html/.json

Which runs are single-modality: ``kinds`` says, per run, ``fusion`` or the one modality it
uses (``avsc-sk report`` takes it from each run's manifest, :func:`run_kind`); runs it does
not name are taken from their names, ``audio...`` or ``video...`` single-modality and every
other a fusion run. The conflict analysis needs one audio and one video run; the side-by-side
differences compare the ``reference`` run (default: the first fusion run, else the
first run) with every other run.
"""

from ._build import Report, build_report, write_report
from ._browser import BROWSER_SCRIPT, browser_html, script_hash
from ._conflicts import conflict_table, top_disagreements
from ._coverage import (BROWSER_LEVEL, COVERAGE_LEVELS, build_coverage, conflict_browser_table, coverage_per_scene,
                        coverage_summary, plot_set_sizes, set_size_table)
from ._html import html_table, markdown_table
from ._media import THUMBNAIL_WIDTH, attach_media, media_href, video_thumbnail, video_thumbnails
from ._plots import DPI, FIGSIZES, MIN_BIN_CLIPS, plot_confusion_matrix, plot_f1_bars, plot_reliability
from ._tables import (
    calibration_table,
    city_table,
    comparison_table,
    infer_kinds,
    mcnemar_table,
    run_kind,
    side_by_side_table,
    summary_table,
)

__all__ = [
    "Report", "build_report", "write_report",
    "conflict_table", "top_disagreements", "side_by_side_table", "comparison_table", "mcnemar_table",
    "summary_table", "city_table", "calibration_table", "infer_kinds", "run_kind",
    "plot_confusion_matrix", "plot_f1_bars", "plot_reliability", "FIGSIZES", "DPI", "MIN_BIN_CLIPS",
    "markdown_table", "html_table",
    "BROWSER_LEVEL", "BROWSER_SCRIPT", "COVERAGE_LEVELS", "build_coverage", "browser_html", "conflict_browser_table",
    "coverage_per_scene", "coverage_summary", "plot_set_sizes", "script_hash", "set_size_table",
    "THUMBNAIL_WIDTH", "attach_media", "media_href", "video_thumbnail", "video_thumbnails",
]
