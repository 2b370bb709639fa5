"""Prediction sets in a report: nominal against empirical coverage, set sizes, and the conflict browser's rows.

Every function takes prediction frames (float probabilities, ``scene_label``) and the runs' calibration
records (:func:`avsc_sk.evaluation.calibration_record`, ``manifest["calibration"]``), and returns
DataFrames; :func:`plot_set_sizes` draws on ``ax`` (or a new figure) and returns the figure.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..evaluation import SET_COLUMN, classes_of, coverage_table, format_sets, prediction_sets, proba_of, set_sizes

__all__ = ["COVERAGE_LEVELS", "BROWSER_LEVEL", "coverage_summary", "coverage_per_scene", "set_size_table",
           "plot_set_sizes", "conflict_browser_table", "run_sets"]

#: Nominal coverages the report checks.
COVERAGE_LEVELS = (0.8, 0.9, 0.95)
#: The coverage of the sets shown per scene, in the set-size distribution and in the conflict browser.
BROWSER_LEVEL = 0.9


def run_sets(frame, calibration, coverage, by="all"):
    """The prediction sets of one run's frame at ``coverage``."""
    return prediction_sets(proba_of(frame), classes_of(frame), calibration, coverage, by=by)


def coverage_summary(frames, calibrations, levels=COVERAGE_LEVELS):
    """Nominal against empirical coverage and mean set size, per run, level and threshold kind.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Prediction frames with ``scene_label``.
    calibrations : mapping of str to dict
        Each run's calibration record; runs without one are left out.
    levels : sequence of float

    Returns
    -------
    DataFrame
        Index ``(run, by, nominal)``; columns ``n_clips``, ``coverage`` (empirical, over every clip),
        ``min_scene_coverage`` (the lowest over the scenes), ``mean_size``, ``share_singleton``, ``share_empty``.
    """
    rows = []
    for name, frame in frames.items():
        calibration = calibrations.get(name)
        if not calibration:
            continue
        for by in ("all", "class"):
            for level in levels:
                table = coverage_table(frame["scene_label"], run_sets(frame, calibration, level, by),
                                       _scenes(frame))
                rows.append({"run": name, "by": by, "nominal": float(level),
                             "n_clips": int(table.loc["all", "n_clips"]),
                             "coverage": table.loc["all", "coverage"],
                             "min_scene_coverage": table.drop(index="all")["coverage"].min(),
                             "mean_size": table.loc["all", "mean_size"],
                             "share_singleton": table.loc["all", "share_singleton"],
                             "share_empty": table.loc["all", "share_empty"]})
    if not rows:
        return pd.DataFrame(columns=["run", "by", "nominal", "n_clips", "coverage", "min_scene_coverage",
                                     "mean_size", "share_singleton", "share_empty"]).set_index(["run", "by", "nominal"])
    return pd.DataFrame(rows).set_index(["run", "by", "nominal"])


def coverage_per_scene(frames, calibrations, level=BROWSER_LEVEL):
    """Empirical coverage per true scene at ``level``: one column per run and threshold kind.

    Returns
    -------
    DataFrame
        Index: each scene, then ``all``; columns ``<run> coverage`` (one threshold over every clip) and
        ``<run> coverage by class`` (Mondrian), and ``<run> mean size``.
    """
    out = {}
    for name, frame in frames.items():
        calibration = calibrations.get(name)
        if not calibration:
            continue
        marginal = coverage_table(frame["scene_label"], run_sets(frame, calibration, level), _scenes(frame))
        mondrian = coverage_table(frame["scene_label"], run_sets(frame, calibration, level, "class"), _scenes(frame))
        out[f"{name} coverage"] = marginal["coverage"]
        out[f"{name} coverage by class"] = mondrian["coverage"]
        out[f"{name} mean size"] = marginal["mean_size"]
    frame = pd.DataFrame(out)
    frame.index.name = "scene"
    return frame


def set_size_table(frames, calibrations, level=BROWSER_LEVEL):
    """The distribution of set sizes at ``level`` (one threshold over every clip): share of clips per size.

    Returns
    -------
    DataFrame
        Index: each run with a calibration; columns ``0`` .. ``n_classes`` (share of clips whose set
        holds that many scenes; 0: an empty set, no scene sure enough) and ``mean``.
    """
    rows = {}
    n_max = max((len(classes_of(f)) for f in frames.values()), default=0)
    for name, frame in frames.items():
        calibration = calibrations.get(name)
        if not calibration:
            continue
        size = set_sizes(run_sets(frame, calibration, level))
        rows[name] = {**{str(k): float((size == k).mean()) for k in range(0, n_max + 1)}, "mean": float(size.mean())}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "run"
    return table


def plot_set_sizes(table, *, ax=None, level=BROWSER_LEVEL):
    """Grouped bars of :func:`set_size_table`: per set size, the share of clips of each run."""
    if ax is None:
        fig = Figure(figsize=(8.0, 4.5), dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    sizes = [c for c in table.columns if c != "mean"]
    x = np.arange(len(sizes))
    width = 0.8 / max(len(table), 1)
    for i, (name, row) in enumerate(table.iterrows()):
        ax.bar(x + (i - (len(table) - 1) / 2) * width, [row[s] for s in sizes], width,
               label=f"{name} (mean {row['mean']:.2f})")
    ax.set_xticks(x, sizes)
    ax.set_xlabel("scenes in the prediction set")
    ax.set_ylabel("share of clips")
    ax.set_title(f"prediction set sizes at {level:g} coverage")
    ax.legend(fontsize=8)
    return fig


def conflict_browser_table(audio, video, fused=None, *, sets=None):
    """Every clip on which the audio and video runs predict different scenes, one row each.

    Parameters
    ----------
    audio, video : DataFrame
        Prediction frames of the single-modality runs (same clip order).
    fused : DataFrame, optional
        The fusion run whose verdict is shown.
    sets : list of list of str, optional
        The fused run's prediction sets (one per clip of the frames).

    Returns
    -------
    DataFrame
        Columns ``aid``, ``scene_label``, ``audio_pred``, ``audio_p``, ``video_pred``, ``video_p``,
        ``fused_pred``, ``fused_p``, ``fused_right``, ``prediction_set``, ``set_size`` (the last five when
        given); as many rows as the conflict table's ``disagree`` count over all scenes.
    """
    def top(frame):
        P, classes = proba_of(frame), np.asarray(classes_of(frame), dtype=object)
        k = np.argmax(P, axis=1)
        return classes[k], P[np.arange(len(P)), k]

    pa, qa = top(audio)
    pv, qv = top(video)
    idx = np.flatnonzero(pa != pv)
    out = pd.DataFrame({"aid": audio["aid"].to_numpy()[idx], "scene_label": audio["scene_label"].to_numpy()[idx],
                        "audio_pred": pa[idx], "audio_p": qa[idx], "video_pred": pv[idx], "video_p": qv[idx]})
    if fused is not None:
        pf, qf = top(fused)
        out["fused_pred"], out["fused_p"] = pf[idx], qf[idx]
        out["fused_right"] = out["fused_pred"].to_numpy() == out["scene_label"].to_numpy()
    if sets is not None:
        out[SET_COLUMN] = format_sets([sets[i] for i in idx])
        out["set_size"] = [len(sets[i]) for i in idx]
    return out


def _scenes(frame):
    """The run's classes that label some clip (scenes no clip holds have no coverage to measure)."""
    present = set(frame["scene_label"])
    return [c for c in classes_of(frame) if c in present]


def build_coverage(runs, kinds, reference, calibrations, *, plots=True):
    """The report's prediction-set tables, figure and numbers (what :func:`avsc_sk.report.build_report` adds).

    Parameters
    ----------
    runs : mapping of str to DataFrame
        Aligned prediction frames.
    kinds : mapping of str to str
        ``fusion`` or the run's one modality.
    reference : str
        The report's reference run; the browser's fused verdict is it when it is a fusion run, else
        the first fusion run.
    calibrations : mapping of str to dict or None
        Each run's calibration record (runs without one get no coverage rows).
    plots : bool, default=True

    Returns
    -------
    tables : dict of str to DataFrame
        ``coverage``, ``coverage_per_scene``, ``set_sizes`` (with a calibrated run) and
        ``conflict_browser`` (with an audio and a video run).
    figures : dict of str to Figure
        ``set_sizes``.
    numbers : dict
        ``coverage``, ``set_sizes`` and ``browser`` (which runs, at which coverage, how many rows).
    """
    calibrations = {n: c for n, c in dict(calibrations or {}).items() if c and n in runs}
    tables, figures, numbers = {}, {}, {}
    if calibrations:
        tables["coverage"] = coverage_summary(runs, calibrations)
        tables["coverage_per_scene"] = coverage_per_scene(runs, calibrations)
        tables["set_sizes"] = set_size_table(runs, calibrations)
        numbers["coverage"] = tables["coverage"]
        numbers["set_sizes"] = tables["set_sizes"]
        numbers["calibration_method"] = {n: {k: c.get(k) for k in ("method", "score", "folds", "grouped", "n_clips")}
                                         for n, c in calibrations.items()}
        if plots:
            figures["set_sizes"] = plot_set_sizes(tables["set_sizes"])
    audio = [n for n in runs if kinds.get(n) == "audio"]
    video = [n for n in runs if kinds.get(n) == "video"]
    fusion = [n for n in runs if kinds.get(n) == "fusion"]
    if audio and video:
        fused = reference if reference in fusion else (fusion[0] if fusion else None)
        sets = run_sets(runs[fused], calibrations[fused], BROWSER_LEVEL) if fused in calibrations else None
        tables["conflict_browser"] = conflict_browser_table(runs[audio[0]], runs[video[0]],
                                                            runs[fused] if fused else None, sets=sets)
        numbers["browser"] = {"audio": audio[0], "video": video[0], "fused": fused,
                              "coverage": BROWSER_LEVEL if sets is not None else None,
                              "n_rows": int(len(tables["conflict_browser"]))}
    return tables, figures, numbers


def _media_text(table):
    if "video_path" in table:
        return ("audio_path and video_path are each clip's source files as avsc-sk extract recorded them; "
                "report.html links them (relative to its folder) with a frame from the middle of the video.")
    return ("No media links: the features record no source files (only avsc-sk extract records them); a TAU "
            "clip's files are audio/<aid>.wav and video/<aid>.mp4 in the dataset.")


def coverage_sections(tables, numbers, image_names, *, thumbnails=None, missing=(), base=None):
    """The report's sections on prediction sets and the conflict browser (blocks as ``_sections`` makes them).

    ``thumbnails``, ``missing`` and ``base`` go to :func:`avsc_sk.report.browser_html`.
    """
    from ._browser import browser_html

    S = []
    if "coverage" in tables:
        method = next(iter(numbers["calibration_method"].values()))
        where = "location-grouped" if method.get("grouped") else "stratified (locations shared: optimistic)"
        S.append(("Prediction sets (conformal coverage)", [
            ("text", "Split-conformal prediction sets (score: 1 - probability of the true scene), calibrated on "
                     f"each run's out-of-fold probabilities of its training clips ({method.get('folds')} {where} "
                     "folds; no clip is scored by a model that trained on it or on its location). 'all': one "
                     "threshold from every calibration clip (coverage over clips); 'class': one per scene "
                     "(Mondrian: coverage for every scene). Nominal is what was asked for, coverage what the "
                     "evaluation clips got."),
            ("table", tables["coverage"]),
            ("text", f"Coverage per true scene at {BROWSER_LEVEL:g}:"),
            ("table", tables["coverage_per_scene"]),
            ("text", f"Set sizes at {BROWSER_LEVEL:g} coverage (one threshold over every clip): share of clips "
                     "whose set holds that many scenes. The sets are the exact split-conformal ones: an empty set "
                     "(size 0) is a clip whose every scene is less probable than calibration demands, a clip to "
                     "check by hand."),
            ("table", tables["set_sizes"]),
            *([("image", ("set_sizes.png", "prediction set sizes"))] if "set_sizes.png" in image_names else []),
        ]))
    if "conflict_browser" in tables:
        b, table = numbers["browser"], tables["conflict_browser"]
        scenes = sorted(set(table["scene_label"]))
        fused = f"the fused verdict of {b['fused']}" if b["fused"] else "no fusion run"
        sets = f", its prediction set at {b['coverage']:g} coverage" if b["coverage"] else ""
        S.append(("Conflict browser", [
            ("text", f"Every one of the {len(table)} clips where {b['audio']} and {b['video']} predict different "
                     f"scenes: each modality's top scene and probability, {fused}{sets} and the truth. In "
                     "report.html, click a header to sort and choose a scene or a verdict to filter (in the page "
                     f"itself, no network); the same rows are in conflict_browser.csv. {_media_text(table)}"),
            ("html", browser_html(table, scenes, thumbnails=thumbnails, missing=missing, base=base)),
        ]))
    return S
