"""Report tables built from prediction frames: summary, per-class, side by side, city, calibration."""

import numpy as np
import pandas as pd

from ..data import parse_stem
from ..errors import DataError
from ..evaluation import (
    bootstrap_ci,
    brier_score,
    expected_calibration_error,
    holm,
    mcnemar,
    paired_bootstrap_diff,
    per_class_table,
    reliability_table,
    score,
    unpack_predictions,
)

__all__ = ["align_runs", "labels_of", "infer_kinds", "run_kind", "FUSION_KIND", "summary_table", "side_by_side_table", "comparison_table",
           "mcnemar_table", "city_table", "calibration_table", "cities_of"]

#: The kind of a run that combines modalities; a single-modality run's kind is its modality (``audio``, ``video``).
FUSION_KIND = "fusion"


def align_runs(runs):
    """Check that every run scored the same labelled clips; return the frames in the first run's clip order."""
    if not runs:
        raise DataError("no runs to report on; pass at least one prediction frame or run directory")
    names = list(runs)
    first = runs[names[0]]
    out = {}
    for name in names:
        frame = runs[name]
        if "scene_label" not in frame:
            raise DataError(f"run {name!r} has no scene_label column; reports need labelled clips "
                            "(predict a labelled split, or attach labels with attach_labels)")
        if frame["aid"].duplicated().any():
            raise DataError(f"run {name!r} lists clip {frame['aid'][frame['aid'].duplicated()].iloc[0]!r} twice")
        if set(frame["aid"]) != set(first["aid"]):
            common = len(set(frame["aid"]) & set(first["aid"]))
            raise DataError(f"runs {names[0]!r} and {name!r} cover different clips ({len(first)} and {len(frame)}, "
                            f"{common} in common); predict every run on the same split")
        frame = frame.set_index("aid").loc[first["aid"]].reset_index()
        if not np.array_equal(frame["scene_label"].to_numpy(), first["scene_label"].to_numpy()):
            raise DataError(f"runs {names[0]!r} and {name!r} disagree on the true scene of some clips; "
                            "they were not scored against the same labels")
        out[name] = frame
    return out


def labels_of(runs):
    """The classes the runs are scored over: the first run's, then any other run (or label) adds, in order."""
    out = []
    for frame in runs.values():
        out += [c for c in unpack_predictions(None, frame)[3] if c not in out]
    return out


def infer_kinds(names, kinds=None):
    """Kind of each run: ``fusion``, or the modality of a single-modality run (``audio``, ``video``, ...).

    Given ``kinds`` entries win (a trained run's come from its manifest, :func:`run_kind`);
    otherwise a run whose name starts with ``audio`` or ``video`` is single-modality and any
    other is a fusion run.
    """
    kinds = dict(kinds or {})
    out = {}
    for name in names:
        kind = kinds.get(name)
        if kind is None:
            low = str(name).lower()
            kind = "audio" if low.startswith("audio") else "video" if low.startswith("video") else FUSION_KIND
        if not isinstance(kind, str) or not kind.strip():
            raise DataError(f"kind {kind!r} of run {name!r} is not a name; expected {FUSION_KIND!r} or the "
                            "modality of a single-modality run (e.g. 'audio')")
        out[name] = kind
    return out


def run_kind(manifest):
    """The kind of a trained run, from its ``manifest.json``: the modality it alone uses, else ``fusion``.

    A run of ``fusion = "auto"`` is of the kind the search chose (``selection.fusion``); a run
    trained on one modality only is single-modality whatever its mode. ``None`` when the
    manifest records no fusion mode or modalities (then the caller falls back on the run's name).
    """
    fusion = manifest.get("fusion")
    if fusion == "auto":
        fusion = (manifest.get("selection") or {}).get("fusion")
    modalities = [str(m[0]) for m in manifest.get("modalities") or [] if isinstance(m, (list, tuple)) and m]
    if not isinstance(fusion, str) or not fusion or not modalities:
        return None
    if fusion in modalities:
        return fusion
    return modalities[0] if len(modalities) == 1 else FUSION_KIND


def summary_table(runs, kinds, *, n_boot=1000, seed=0, alpha=0.05, n_bins=15):
    """One row per run: accuracy, ``log_loss`` (exact) and ``log_loss_ref3`` (3 decimals, the reference
    figure) with bootstrap intervals, balanced accuracy, macro F1, ECE."""
    rows = []
    for name, frame in runs.items():
        s = score(None, frame)
        acc = bootstrap_ci(None, frame, "accuracy", n_boot=n_boot, seed=seed, alpha=alpha)
        ll = bootstrap_ci(None, frame, "log_loss", n_boot=n_boot, seed=seed, alpha=alpha)
        ref = bootstrap_ci(None, frame, "log_loss_ref3", n_boot=n_boot, seed=seed, alpha=alpha)
        rows.append({"run": name, "kind": kinds[name], "n_clips": s["n_clips"],
                     "accuracy": s["accuracy"], "accuracy_low": acc["low"], "accuracy_high": acc["high"],
                     "balanced_accuracy": s["balanced_accuracy"],
                     "log_loss": s["log_loss"], "log_loss_low": ll["low"], "log_loss_high": ll["high"],
                     "log_loss_ref3": s["log_loss_ref3"], "log_loss_ref3_low": ref["low"],
                     "log_loss_ref3_high": ref["high"],
                     "macro_f1": s["macro avg"]["f1-score"],
                     "ece": expected_calibration_error(None, frame, n_bins=n_bins)})
    return pd.DataFrame(rows).set_index("run")


def comparison_table(runs, reference, *, n_boot=1000, seed=0, alpha=0.05):
    """Paired bootstrap differences ``reference - other`` for every other run (long format).

    Besides the columns of :func:`~avsc_sk.evaluation.paired_bootstrap_diff`, ``p_holm``
    adjusts the per-scene p-values of each metric for being tested together: over every
    scene and every other run (:func:`~avsc_sk.evaluation.holm`); overall rows keep their own.
    """
    parts = []
    for name, frame in runs.items():
        if name == reference:
            continue
        d = paired_bootstrap_diff(None, runs[reference], frame, n_boot=n_boot, seed=seed, alpha=alpha)
        d.insert(0, "run_b", name)
        d.insert(0, "run_a", reference)
        parts.append(d)
    if not parts:
        return pd.DataFrame(columns=["run_a", "run_b", "scene", "metric", "a", "b", "diff", "low", "high",
                                     "p_value", "significant", "p_holm"])
    table = pd.concat(parts, ignore_index=True)
    table["p_holm"] = table["p_value"]
    per_scene = table["scene"] != "all"
    for _, rows in table[per_scene].groupby("metric"):
        table.loc[rows.index, "p_holm"] = holm(rows["p_value"])
    return table


def mcnemar_table(runs, reference):
    """McNemar's test of ``reference`` against every other run."""
    rows = []
    ref = runs[reference]
    t, p_ref, _, _ = unpack_predictions(None, ref)
    for name, frame in runs.items():
        if name == reference:
            continue
        t_b, p, _, _ = unpack_predictions(None, frame)
        rows.append({"run_a": reference, "run_b": name, **mcnemar(p_ref == t, p == t_b)})
    return pd.DataFrame(rows, columns=["run_a", "run_b", "statistic", "p_value", "n_a_only", "n_b_only", "method"])


def side_by_side_table(runs, comparisons=None, reference=None, *, alpha=0.05):
    """Per-class precision, recall and F1 of every run side by side (``<run>-P``, ``<run>-R``, ``<run>-F``).

    With ``comparisons`` (from :func:`comparison_table`), adds for every other run the
    F1 difference ``dF <reference>-<run>`` and a boolean ``sig <reference>-<run>``: its
    Holm-adjusted p-value (``p_holm``, over every scene and run of the table) is below ``alpha``.
    """
    labels = labels_of(runs)
    table = pd.DataFrame(index=pd.Index(labels, name="scene"))
    for name, frame in runs.items():
        pc = per_class_table(None, frame).reindex(labels, fill_value=0.0)  # a class the run lacks scores 0
        table[f"{name}-P"] = pc["precision"].to_numpy()
        table[f"{name}-R"] = pc["recall"].to_numpy()
        table[f"{name}-F"] = pc["f1-score"].to_numpy()
    if comparisons is not None and len(comparisons):
        f1 = comparisons[comparisons["metric"] == "f1-score"]
        for other in f1["run_b"].unique():
            d = f1[f1["run_b"] == other].set_index("scene").reindex(labels, fill_value=0.0)
            table[f"dF {reference}-{other}"] = d["diff"].to_numpy()
            table[f"sig {reference}-{other}"] = (d["p_holm"] < alpha).to_numpy(dtype=bool)
    return table


def cities_of(aids):
    """City of each clip parsed from its name, or None when some name does not parse."""
    try:
        return pd.Series([parse_stem(a).city for a in aids], index=list(aids))
    except DataError:
        return None


def city_table(runs, city):
    """Accuracy, ``log_loss`` and ``log_loss_ref3`` of every run in every city (rows: cities, then ``all``)."""
    first = next(iter(runs.values()))
    city = pd.Series(city)
    cities = first["aid"].map(city)
    if cities.isna().any():
        raise DataError(f"no city for clip {first['aid'][cities.isna()].iloc[0]!r}; the city mapping must "
                        "cover every clip")
    rows = []
    for c in [*sorted(cities.unique()), "all"]:
        mask = (cities == c).to_numpy() if c != "all" else np.ones(len(first), bool)
        row = {"city": c, "n_clips": int(mask.sum())}
        for name, frame in runs.items():
            s = score(None, frame[mask])
            row[f"{name} accuracy"] = s["accuracy"]
            row[f"{name} log_loss"] = s["log_loss"]
            row[f"{name} log_loss_ref3"] = s["log_loss_ref3"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("city")


def calibration_table(runs, *, n_bins=15):
    """Per run: ECE, multi-class Brier score, mean confidence, accuracy, exact log_loss; and the reliability tables."""
    rows, reliability = [], {}
    for name, frame in runs.items():
        t, p, P, _ = unpack_predictions(None, frame)
        rel = reliability_table(None, frame, n_bins=n_bins)
        reliability[name] = rel
        used = rel["count"] > 0
        rows.append({"run": name, "ece": expected_calibration_error(None, frame, n_bins=n_bins),
                     "max_calibration_error": float(rel.loc[used, "gap"].abs().max()),
                     "brier": brier_score(None, frame), "mean_confidence": float(P.max(axis=1).mean()),
                     "accuracy": float(np.mean(t == p)), "log_loss": score(None, frame)["log_loss"]})
    return pd.DataFrame(rows).set_index("run"), reliability
