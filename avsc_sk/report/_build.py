"""Build a report from prediction frames and write it as files."""

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_dir, check_output
from ..datasets import SYNTHETIC_BANNER
from ..evaluation import format_scoring, per_class_table, plot_robustness, score
from ._browser import BROWSER_SCRIPT
from ._conflicts import conflict_table, top_disagreements
from ._coverage import build_coverage, coverage_sections
from ._html import markdown_table, render_html, render_markdown
from ._media import attach_media
from ._plots import MIN_BIN_CLIPS, plot_confusion_matrix, plot_f1_bars, plot_reliability
from ._tables import (
    align_runs,
    calibration_table,
    cities_of,
    city_table,
    comparison_table,
    infer_kinds,
    mcnemar_table,
    side_by_side_table,
    summary_table,
)

__all__ = ["Report", "build_report", "write_report"]



@dataclass
class Report:
    """A built report: every table as a DataFrame, every figure, and the numbers as a JSON-ready dict.

    Attributes
    ----------
    runs : dict of str to DataFrame
        The prediction frames, aligned to the same clip order.
    kinds : dict of str to str
        ``fusion`` or the modality of a single-modality run (``audio``, ``video``), per run.
    reference : str
        The run the differences are taken from.
    tables : dict of str to DataFrame
        ``summary``, ``per_class`` (every run stacked), ``per_class/<run>``, and when they
        apply ``side_by_side``, ``comparisons``, ``mcnemar``, ``conflicts``,
        ``disagreements``, ``city``, ``calibration``, ``reliability/<run>``.
    scoring : dict of str to str
        The reference scoring text of each run.
    figures : dict of str to matplotlib Figure
        ``confusion_<run>``, ``f1_bars``, ``reliability``.
    numbers : dict
        Everything in the report, as plain Python types (``report.json``).
    synthetic : bool
    title : str
    notes : list of str
        What the report left out and why.
    thumbnails : dict of str to str
        Clip id to a ``data:image/png`` frame of its video, for the conflict browser's rows (with ``media``).
    missing_media : set of str
        Media paths recorded for the conflict browser's rows that were not files when the report was built.
    """

    runs: dict
    kinds: dict
    reference: str
    tables: dict = field(default_factory=dict)
    scoring: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)
    synthetic: bool = False
    title: str = "avsc-sk report"
    notes: list = field(default_factory=list)
    alpha: float = 0.05
    n_boot: int = 1000
    thumbnails: dict = field(default_factory=dict)
    missing_media: set = field(default_factory=set)


def build_report(runs, *, kinds=None, reference=None, city=None, synthetic=False, n_boot=1000, seed=0,
                 alpha=0.05, n_bins=15, top_k=15, title="avsc-sk report", plots=True, missing=None,
                 calibration=None, robustness=None, media=None):
    """Build every table, figure and number of a report.

    Parameters
    ----------
    runs : mapping of str to DataFrame
        Run name to its prediction frame with ``scene_label``; all on the same clips.
    kinds : mapping of str to str, optional
        Per run ``"fusion"`` or the modality of a single-modality run (``"audio"``, ``"video"``);
        overrides the kinds inferred from run names (see the module docstring).
    reference : str, optional
        Run the per-class differences are computed from (default: first fusion run).
    city : Series or mapping of clip id to city, optional
        Default: parsed from the clip names; no city table when they do not parse.
    synthetic : bool, default=False
        The predictions are on synthetic data: every output says so first.
    n_boot, seed, alpha : int, int, float
        Bootstrap resamples, their seed, and the significance level of the markers.
    n_bins : int, default=15
        Bins of the reliability table and ECE.
    top_k : int, default=15
        Clips listed in the largest-disagreement table.
    title : str
    plots : bool, default=True
        Also draw the figures.
    missing : dict of str to int, optional
        Clips lacking each modality (``--allow-missing-modality``); counted in the notes and numbers.
    calibration : mapping of str to dict, optional
        Per run its conformal calibration record (``manifest["calibration"]``): adds the coverage
        tables and the set-size plot, and prediction sets in the conflict browser (see
        :func:`avsc_sk.report.build_coverage`).
    robustness : mapping of str to DataFrame, optional
        Per run its :func:`avsc_sk.evaluation.robustness_table` (``report --robustness``): adds
        the robustness table and plot.
    media : mapping of str to (str, str), optional
        Clip id to the ``(audio path, video path)`` of its source files (``""``: none), as
        ``FeatureSet.media`` holds them for features made by ``avsc-sk extract``: the conflict browser
        gets the columns ``audio_path`` and ``video_path``, linked in report.html, and a frame of each
        video (decoded here with PyAV; see :func:`avsc_sk.report.attach_media`). Files that are
        missing or do not decode are counted in the notes, never an error.

    Returns
    -------
    Report
    """
    runs = align_runs(dict(runs))
    kinds = infer_kinds(list(runs), kinds)
    names = list(runs)
    fusion = [n for n in names if kinds[n] == "fusion"]
    if reference is None:
        reference = fusion[0] if fusion else names[0]
    elif reference not in runs:
        from ..errors import DataError

        raise DataError(f"reference run {reference!r} is not among the runs ({', '.join(names)})")
    rep = Report(runs=runs, kinds=kinds, reference=reference, synthetic=bool(synthetic), title=title,
                 alpha=alpha, n_boot=n_boot)
    T = rep.tables
    T["summary"] = summary_table(runs, kinds, n_boot=n_boot, seed=seed, alpha=alpha, n_bins=n_bins)
    per_class = {}
    for name, frame in runs.items():
        per_class[name] = per_class_table(None, frame)
        T[f"per_class/{name}"] = per_class[name]
        rep.scoring[name] = format_scoring(None, frame, digits=3)
    T["per_class"] = pd.concat(per_class, names=["run", "label"])
    if len(runs) > 1:
        T["comparisons"] = comparison_table(runs, reference, n_boot=n_boot, seed=seed, alpha=alpha)
        T["mcnemar"] = mcnemar_table(runs, reference)
    T["side_by_side"] = side_by_side_table(runs, T.get("comparisons"), reference, alpha=alpha)
    audio = [n for n in names if kinds[n] == "audio"]
    video = [n for n in names if kinds[n] == "video"]
    if audio and video:
        fus = {n: runs[n] for n in fusion}
        T["conflicts"] = conflict_table(runs[audio[0]], runs[video[0]], fus)
        T["disagreements"] = top_disagreements(runs[audio[0]], runs[video[0]], fus, k=top_k)
        rep.numbers["conflict_runs"] = {"audio": audio[0], "video": video[0], "fusion": fusion}
    else:
        rep.notes.append("no conflict analysis: it needs one audio-only and one video-only run "
                         f"(kinds: {', '.join(f'{n}={k}' for n, k in kinds.items())})")
    first = runs[names[0]]
    if city is None:
        city = cities_of(first["aid"])
        if city is None:
            rep.notes.append("no city breakdown: the clip names do not parse as <scene>-<city>-<location>-<segment>")
    if city is not None:
        T["city"] = city_table(runs, city)
    T["calibration"], reliability = calibration_table(runs, n_bins=n_bins)
    for name, table in reliability.items():
        T[f"reliability/{name}"] = table
    missing = {str(m): int(n) for m, n in (missing or {}).items() if n}
    if missing:
        rep.numbers["missing_modality"] = missing
        rep.notes.append("clips lacking a modality, predicted from the modalities present: "
                         + ", ".join(f"{n} without {m}" for m, n in missing.items()))
    rep.numbers.update(_numbers(rep, seed=seed, n_bins=n_bins))
    tables, figures, numbers = build_coverage(runs, kinds, reference, calibration, plots=plots)
    if media is not None and "conflict_browser" in tables:
        tables["conflict_browser"], rep.thumbnails, rep.missing_media, notes = attach_media(
            tables["conflict_browser"], media)
        rep.notes.extend(notes)
        rep.numbers["notes"] = list(rep.notes)
    T.update(tables)
    rep.figures.update(figures)
    if numbers:
        rep.numbers["prediction_sets"] = _plain(numbers)
    if robustness:
        T["robustness"] = pd.concat({name: table for name, table in robustness.items()}, names=["run", "row"]) \
            .reset_index(level="row", drop=True)
        rep.numbers["robustness"] = _plain({name: table.to_dict(orient="records")
                                            for name, table in robustness.items()})
        if plots:
            rep.figures["robustness"] = plot_robustness(robustness)
    if plots:
        for name, frame in runs.items():
            rep.figures[f"confusion_{_safe(name)}"] = plot_confusion_matrix(
                frame, title=f"{name}: normalised confusion matrix")
        rep.figures["f1_bars"] = plot_f1_bars(per_class)
        rep.figures["reliability"] = plot_reliability(reliability)
    return rep


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name))


def _plain(obj):
    """Numbers and containers as JSON-ready Python types (NaN -> None)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        df = obj.reset_index() if not isinstance(obj.index, pd.RangeIndex) else obj
        return [_plain(r) for r in df.to_dict(orient="records")]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not np.isfinite(obj) else float(obj)
    return obj


def _numbers(rep, *, seed, n_bins):
    T = rep.tables
    out = {"title": rep.title, "synthetic": rep.synthetic, "reference_run": rep.reference,
           "kinds": rep.kinds, "n_boot": rep.n_boot, "alpha": rep.alpha, "seed": seed, "n_bins": n_bins,
           "runs": {name: {"kind": rep.kinds[name], "scores": score(None, frame),
                           "summary": T["summary"].loc[name].to_dict(),
                           "calibration": T["calibration"].loc[name].to_dict(),
                           "reliability": T[f"reliability/{name}"]}
                    for name, frame in rep.runs.items()},
           "notes": rep.notes}
    for key in ("side_by_side", "comparisons", "mcnemar", "conflicts", "disagreements", "city"):
        if key in T:
            out[key] = T[key]
    return _plain(out)


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


def _marked(side, reference):
    """The side-by-side table for reading: F1 differences as ``+0.053*`` (``*``: significant)."""
    out = side.copy()
    for col in [c for c in side.columns if c.startswith("dF ")]:
        sig = side["sig " + col[3:]]
        # round first: a difference of -0.0002 prints +0.000, not -0.000
        out[col] = [f"{round(d, 3) + 0.0:+.3f}{'*' if s else ''}" for d, s in zip(side[col], sig)]
        out = out.drop(columns="sig " + col[3:])
    return out


def _n_markers(T):
    comp = T["comparisons"]
    return int(((comp["metric"] == "f1-score") & (comp["scene"] != "all")).sum())


def _sections(rep, image_names, base=None):
    T = rep.tables
    alpha_pct = f"{100 * (1 - rep.alpha):.0f}%"
    n = int(T["summary"]["n_clips"].iloc[0])
    runs_txt = ", ".join(f"{name} ({kind})" for name, kind in rep.kinds.items())
    S = [("Summary", [
        ("text", f"{n} clips; runs: {runs_txt}. Intervals: {alpha_pct} clip-level bootstrap "
                 f"({rep.n_boot} resamples). log_loss is exact, from the runs' probabilities; log_loss_ref3 "
                 "is over them rounded to 3 decimals, as prediction.csv prints them and the reference scoring "
                 "reads them (the DCASE ranking metric)."),
        ("table", T["summary"]),
    ])]
    blocks = []
    for name, text in rep.scoring.items():
        blocks += [("text", f"{name}:"), ("code", text)]
    S.append(("Per-class scores (reference scoring layout)", [
        ("text", "The reference scoring output of each run; its 'overall log loss' is log_loss_ref3."), *blocks]))
    if len(rep.runs) > 1:
        S.append(("Runs side by side", [
            ("text", f"P, R, F: precision, recall, F1 of each run. dF {rep.reference}-<run>: F1 difference; "
                     f"* marks a difference significant at the {100 * rep.alpha:g}% level by the paired bootstrap "
                     f"after Holm's correction for the {_n_markers(T)} per-scene comparisons tested together "
                     "(p_holm in comparisons.csv)."),
            ("table", _marked(T["side_by_side"], rep.reference)),
            ("text", "Overall differences (paired bootstrap):"),
            ("table", T["comparisons"][T["comparisons"]["scene"] == "all"].drop(columns="scene")
             .reset_index(drop=True)),
            ("text", "McNemar's test on clip-level correctness:"),
            ("table", T["mcnemar"]),
        ]))
    if "conflicts" in T:
        c = rep.numbers["conflict_runs"]
        S.append(("Conflict analysis", [
            ("text", f"Clips where {c['audio']} and {c['video']} predict different scenes, by true scene: who was "
                     "right, and how often each fusion run picked the right one when exactly one modality was."),
            ("table", T["conflicts"]),
            ("text", f"The {len(T['disagreements'])} clips with the largest disagreement "
                     "(total variation distance between the two runs' probabilities):"),
            ("table", T["disagreements"]),
        ]))
    if "city" in T:
        S.append(("Breakdown by city", [("table", T["city"])]))
    S.append(("Calibration", [
        ("text", "ECE: expected calibration error of the top-class probability "
                 f"({rep.numbers['n_bins']} equal-width bins); lower is better, as for log loss and Brier score. "
                 f"The diagram draws bins of fewer than {MIN_BIN_CLIPS} clips hollow and does not join them: "
                 "their accuracy is mostly chance."),
        ("table", T["calibration"]),
        *([("image", ("reliability.png", "reliability diagram"))] if "reliability.png" in image_names else []),
    ]))
    S.extend(coverage_sections(T, rep.numbers.get("prediction_sets", {}), image_names, thumbnails=rep.thumbnails,
                               missing=rep.missing_media, base=base))
    if "robustness" in T:
        S.append(("Robustness", [
            ("text", "Accuracy and exact log loss when a share of the clips (seeded, the same for every run) lose "
                     "one modality (its block NaN: a run without any of its modalities gives the training class "
                     "prior), and under additive Gaussian noise on one modality's input features at each SNR "
                     "(noise power = the block's mean square / 10^(SNR/10))."),
            ("table", T["robustness"]),
            *([("image", ("robustness.png", "robustness to a missing modality"))]
              if "robustness.png" in image_names else []),
        ]))
    placed = {"reliability.png", "set_sizes.png", "robustness.png"}  # shown in their own sections
    plots = [("image", (f, f[:-4].replace("_", " "))) for f in sorted(image_names) if f not in placed]
    if plots:
        S.append(("Plots", plots))
    if rep.notes:
        S.append(("Notes", [("text", note) for note in rep.notes]))
    return S


def write_report(report, out_dir, *, force=False):
    """Write a report directory atomically: tables (CSV, Markdown), PNGs, report.md, report.html, report.json.

    Parameters
    ----------
    report : Report
    out_dir : str or Path
        Created whole or not at all; an existing one is replaced only with ``force``.
    force : bool, default=False

    Returns
    -------
    list of str
        The file names written.
    """
    check_output(out_dir, force=force, what="report directory")  # before the slow rendering
    T = report.tables
    banner = SYNTHETIC_BANNER if report.synthetic else None
    images = {f"{name}.png": _png(fig) for name, fig in report.figures.items()}
    # Media links are relative to where the page will be, not to the temporary folder it is written in.
    sections = _sections(report, set(images), base=Path(out_dir).resolve())
    files = {}
    head = f"{banner}\n\n" if banner else ""

    def csv(table):
        # SYNTHETIC as a last column, which every CSV reader takes (a comment line trips strict ones).
        return (table.assign(data="synthetic") if banner else table).to_csv()

    files["per_class.csv"] = csv(T["per_class"])
    files["per_class.md"] = f"# Per-class scores\n\n{('> **' + banner + '**' + chr(10) + chr(10)) if banner else ''}" + \
        "\n".join(f"## {name}\n\n```\n{text}```\n\n{markdown_table(T[f'per_class/{name}'])}"
                  for name, text in report.scoring.items())
    for key in ("summary", "side_by_side", "comparisons", "mcnemar", "conflicts", "disagreements", "city",
                "calibration", "coverage", "coverage_per_scene", "set_sizes", "conflict_browser", "robustness"):
        if key in T:
            files[f"{key}.csv"] = csv(T[key])
    if len(report.runs) > 1:
        files["side_by_side.md"] = head + markdown_table(_marked(T["side_by_side"], report.reference))
    if "conflicts" in T:
        files["conflicts.md"] = head + markdown_table(T["conflicts"]) + "\n" + markdown_table(T["disagreements"])
    files["reliability.csv"] = csv(pd.concat({n: T[f"reliability/{n}"] for n in report.runs}, names=["run", "bin"]))
    files["report.md"] = render_markdown(sections, title=report.title, banner=banner)
    files["report.html"] = render_html(sections, title=report.title, images=images, banner=banner,
                                       scripts=[BROWSER_SCRIPT] if "conflict_browser" in T else [])
    files["report.json"] = json.dumps(report.numbers, indent=2, allow_nan=False) + "\n"
    with atomic_dir(out_dir, force=force) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        for name, data in images.items():
            (tmp / name).write_bytes(data)
    return sorted([*files, *images])
