"""Train every fusion mode on one split, score each on another: the study's comparison in one call.

Built on the estimators' public API only: the per-modality pipelines are fitted once and shared,
late and weighted fusion assembled from them with ``from_members``.
"""

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import f1_score

from .._progress import bar, using
from ..errors import ConfigError, DataError
from ..evaluation import balanced_accuracy, bootstrap_ci, calibration_record, mcnemar, prediction_sets, \
    unpack_predictions
from ..fusion import FUSION_MODES, NoModalityWarning, fit_members, grouped_splits, make_estimator, model_name
from ..heads import class_weight_params, fit_with_groups
from ._conformal import calibration_probabilities

__all__ = ["COMPARE_COLUMNS", "compare_fusions", "format_compare"]

#: Columns of the table :func:`compare_fusions` returns, in order.
COMPARE_COLUMNS = ("mode", "accuracy", "accuracy_low", "accuracy_high", "balanced_accuracy", "log_loss",
                   "log_loss_low", "log_loss_high", "log_loss_ref3", "log_loss_ref3_low", "log_loss_ref3_high",
                   "macro_f1", "fit_time_s", "predict_time_s", "vs", "mcnemar_p", "n_missing", "head",
                   "class_weight", "coverage", "set_coverage", "mean_set_size")


def _scores(y, P, classes, n_boot, seed):
    # The run's classes are the columns; a label training lacked scores probability 0 (the caller warns
    # of it). log_loss: exact, from the float probabilities; log_loss_ref3: the reference scoring's
    # (probabilities rounded as prediction.csv prints them, sklearn's old clipping).
    classes = [str(c) for c in classes]
    t, p, _, _ = unpack_predictions(y, P, classes)
    return [*(bootstrap_ci(y, P, metric, n_boot=n_boot, seed=seed, classes=classes)
              for metric in ("accuracy", "log_loss", "log_loss_ref3")), balanced_accuracy(t, p)]


def compare_fusions(train, test, *, fusions=None, model="logreg", random_state=0, n_boot=1000, cv=5, n_jobs=None,
                    class_weight=None, coverage=None, progress=None):
    """Fit each fusion mode on ``train``, score it on ``test``, and tabulate the results.

    Every mode sees the same training clips and is scored on the same evaluation clips.
    The frames of both splits are pooled once (mean, as every mode's default) and every mode
    trains on the pooled features, which gives exactly the models ``make_estimator`` builds.
    The per-modality pipelines are trained once and shared: the single-modality modes are
    the pipelines fitted on all of ``train``, and late and weighted fusion are assembled
    from those same fitted pipelines plus their out-of-fold probabilities from one
    location-grouped cross-validation, through their ``from_members`` constructors (the same
    fitted models ``LateFusionClassifier.fit`` and ``WeightedFusionClassifier.fit`` give, without
    training the pipelines again).

    Parameters
    ----------
    train, test : FeatureSet
        Labelled splits with the same modalities (e.g. fold1 train+val and fold1 evaluate).
    fusions : sequence of str, optional
        Modes to compare, from the modality names and ``early``, ``intermediate``, ``late``,
        ``weighted``. Default: every modality of the data, then every fusion mode.
    model : str, default="logreg"
        Head of the single-modality, early, late and weighted pipelines.
    random_state : int, default=0
        Seeds the models and the bootstrap.
    n_boot : int, default=1000
        Bootstrap resamples for the 95% intervals of accuracy and both log losses.
    cv : int, default=5
        Internal grouped folds of late and weighted fusion.
    n_jobs : int, optional
        Parallel jobs (joblib convention; ``None`` is 1) over the shared per-modality fits: each
        modality's fit on all of ``train`` and its out-of-fold fits. The results do not
        depend on it.
    class_weight : "balanced", dict or None, default=None
        Every mode's heads' ``class_weight``, and intermediate fusion's network's (see
        :func:`avsc_sk.heads.class_weight_params`); the ``class_weight`` column says, per mode,
        what was weighted (late fusion's stacker and weighted fusion's blend are not).
    coverage : float or None, default=None
        With a coverage (``avsc-sk compare`` asks for 0.9): conformal prediction sets at this coverage: each mode calibrated as ``fit`` calibrates a run
        (:func:`calibration_probabilities`, ``cv`` location-grouped folds; the single modalities reuse
        the shared out-of-fold probabilities, which are exactly those), scored by ``set_coverage``
        (empirical) and ``mean_set_size`` on ``test``; five more fits of each mode, hyper-parameters
        fixed. ``None``: no sets (those columns NaN).
    progress : callable, optional
        A progress hook (``tqdm.tqdm``'s signature, see ``avsc_sk._progress``): a bar of the
        shared member fits, then one of the modes. ``None``: silent.

    Returns
    -------
    pandas.DataFrame
        One row per mode, columns :data:`COMPARE_COLUMNS`: accuracy, ``log_loss`` (exact, from
        the float probabilities) and ``log_loss_ref3`` (the reference scoring's, over the
        probabilities rounded to 3 decimals as prediction.csv prints them) with 95%
        percentile-bootstrap bounds, balanced accuracy, macro F1, fit and predict seconds, ``vs``
        (the best single modality, by accuracy) and ``mcnemar_p`` (McNemar's
        test on per-clip correctness against it; empty for the single modalities
        themselves), ``n_missing`` (evaluation clips lacking some modality), ``head`` (the
        classifier: the head, or ``network`` for intermediate fusion) and ``class_weight``. Fit time of
        late and weighted fusion counts the shared pipelines' training as well (the sum of
        their fits' times, whatever ``n_jobs`` ran at once), and every
        mode's fit (predict) time the one pooling of the training (evaluation) clips, i.e.
        what the mode costs on its own. ``df.attrs`` holds ``synthetic``, ``n_train``, ``n_test``,
        ``model``, the fitted weighted-fusion weights, ``cv_fallback`` (why late and weighted fusion's folds
        fell back to stratified ones, or ``None``) and ``no_sets`` (per mode whose calibration folds could
        not be fitted, why; its set columns are NaN).
    """
    if train.y is None or test.y is None:
        raise DataError("compare needs labelled train and test splits; the features have no scene labels")
    if train.modalities != test.modalities:
        raise DataError(f"train modalities {train.modalities} differ from test modalities {test.modalities}")
    if train.stats != test.stats:
        raise DataError(f"train holds the statistics {train.stats} but test {test.stats}; read both alike")
    names = list(train.modality_names)
    fusions = [*names, *FUSION_MODES] if fusions is None else \
        [f.strip() for f in (fusions.split(",") if isinstance(fusions, str) else fusions) if f.strip()]
    unknown = [f for f in fusions if f not in names and f not in FUSION_MODES]
    if not fusions:
        raise ConfigError(f"no modes to compare; pass --fusions with some of {', '.join([*names, *FUSION_MODES])}")
    if unknown:
        raise ConfigError(f"unknown mode(s) {unknown} for compare; expected some of "
                          f"{', '.join([*names, *FUSION_MODES])}")
    Xtr, ytr, yte = train.X, np.asarray(train.y), np.asarray(test.y)
    groups = np.asarray(train.groups)  # the locations reach heads that choose their own settings
    n_missing = int(test.missing().any(axis=1).sum())
    # Late and weighted fusion as make_estimator builds them: their pooler and per-modality
    # pipelines are the ones every pooled mode here uses.
    pooled = {mode: _with_class_weight(make_estimator(mode, train, model=model, random_state=random_state),
                                       class_weight).set_params(cv=cv) for mode in ("late", "weighted")}
    templates = dict(pooled["late"].estimators)

    # Pool once for every mode: pooling learns nothing, and the frames are by far the largest
    # array. Each mode's fit (predict) time includes pooling the training (evaluation) clips.
    pooler = clone(pooled["late"].pooler)
    t0 = time.perf_counter()
    Ztr = pooler.fit_transform(Xtr)
    t_pool_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    Zte = pooler.transform(test.X)
    t_pool_pred = time.perf_counter() - t0
    blocks = {name: pooler.output_indices_[name] for name in names}
    # The pooled features laid out as modalities of one frame: early and intermediate fusion
    # (mean pooling, the identity on one frame) then train exactly as on the frames.
    pooled_layout = tuple((name, 1, blocks[name].stop - blocks[name].start) for name in names)
    classes = np.unique(ytr)

    # Per-modality pipelines: fitted once, shared by the single-modality, late and weighted modes,
    # with the out-of-fold probabilities late and weighted fusion learn from.
    need_oof = any(f in ("late", "weighted") for f in fusions)
    members = [name for name in names if need_oof or name in fusions]
    splits, fallback = grouped_splits(Ztr, ytr, groups, cv, random_state, return_fallback=True) if need_oof else \
        ([], None)
    # Fitted as late and weighted fusion's fit fits them (member_tuning: hyper-parameters chosen once
    # on all clips, fixed in the fold fits), so the modes assembled from them equal their fit's.
    with using(progress):
        fitted, oof, seconds = fit_members([(name, templates[name]) for name in members], Ztr,
                                           [blocks[name] for name in members], ytr, groups, splits, classes,
                                           member_tuning=pooled["late"].member_tuning, n_jobs=n_jobs,
                                           desc="compare: shared member fits")
    shared = {name: {"fitted": est, "t_fit": t_fit, "t_oof": t_oof}
              for name, est, (t_fit, t_oof) in zip(members, fitted, seconds)}
    for name, P in zip(members, oof or []):
        shared[name]["oof"] = P

    results, weights, sets, no_sets = {}, {}, {}, {}
    # A single-modality mode gives a clip without its modality the class prior: the footer says it once.
    with warnings.catch_warnings(), bar(progress, "compare", total=len(fusions), unit="mode") as shown:
        warnings.simplefilter("ignore", NoModalityWarning)
        for mode in fusions:
            shown.set_postfix_str(mode)
            if mode in names:
                est, t_fit = shared[mode]["fitted"], shared[mode]["t_fit"] + t_pool_fit
                t0 = time.perf_counter()
                P = est.predict_proba(Zte[:, blocks[mode]])
                t_pred = time.perf_counter() - t0 + t_pool_pred
            elif mode in ("late", "weighted"):
                spec = pooled[mode]
                extra = {"groups": groups, "cv_splits": splits} if mode == "late" else {}
                t0 = time.perf_counter()
                est = type(spec).from_members([(n, shared[n]["fitted"]) for n in names],
                                              [shared[n]["oof"] for n in names], Xtr, ytr, **extra,
                                              **spec.get_params(deep=False))
                # What the mode costs on its own: the shared pipelines' training counts too.
                t_fit = time.perf_counter() - t0 + sum(shared[n]["t_fit"] + shared[n]["t_oof"] for n in names) \
                    + t_pool_fit
                if mode == "weighted":
                    weights = dict(zip(est.modality_names_, np.round(est.weights_, 3).tolist()))
                t0 = time.perf_counter()
                P = est.predict_proba(test.X)  # pools the evaluation clips itself
                t_pred = time.perf_counter() - t0
            else:
                # Intermediate fusion is its own network: the head applies to the other modes only.
                head = None if mode == "intermediate" else model
                est = _with_class_weight(make_estimator(mode, pooled_layout, model=head, random_state=random_state),
                                         class_weight)
                t0 = time.perf_counter()
                fit_with_groups(est, Ztr, ytr, groups)
                t_fit = time.perf_counter() - t0 + t_pool_fit
                t0 = time.perf_counter()
                P = est.predict_proba(Zte)
                t_pred = time.perf_counter() - t0 + t_pool_pred
            results[mode] = (est.classes_, P, t_fit, t_pred)
            if coverage is not None:
                sets[mode], why = _sets_or_none(mode, est, shared, names, blocks, Xtr, Ztr, ytr, groups, P,
                                                coverage, cv, random_state, n_jobs)
                if why:
                    no_sets[mode] = why
            shown.update(1)

    singles = [m for m in fusions if m in names]
    correct = {m: cls[np.argmax(P, axis=1)] == yte for m, (cls, P, _, _) in results.items()}
    best = max(singles, key=lambda m: correct[m].mean()) if singles else None
    if best is None and shared:
        # Late/weighted trained the single modalities anyway: compare against the best of them.
        for n, s in shared.items():
            P = s["fitted"].predict_proba(Zte[:, blocks[n]])
            correct[n] = s["fitted"].classes_[np.argmax(P, axis=1)] == yte
        best = max(shared, key=lambda m: correct[m].mean())

    rows = []
    for mode, (classes, P, t_fit, t_pred) in results.items():
        acc, ll, ref, bacc = _scores(yte, P, classes, n_boot, random_state)
        pred = classes[np.argmax(P, axis=1)]
        test_p = np.nan if best is None or mode == best or mode in names else \
            mcnemar(correct[mode], correct[best])["p_value"]
        rows.append({
            "mode": mode, "accuracy": acc["estimate"], "accuracy_low": acc["low"], "accuracy_high": acc["high"],
            "balanced_accuracy": bacc,
            "log_loss": ll["estimate"], "log_loss_low": ll["low"], "log_loss_high": ll["high"],
            "log_loss_ref3": ref["estimate"], "log_loss_ref3_low": ref["low"], "log_loss_ref3_high": ref["high"],
            "macro_f1": float(f1_score(yte, pred, labels=classes, average="macro", zero_division=0)),
            "fit_time_s": float(t_fit), "predict_time_s": float(t_pred),
            "vs": "" if best is None or mode in names else best, "mcnemar_p": test_p, "n_missing": n_missing,
            "head": model_name(mode, model), "class_weight": _weighted_what(mode, class_weight),
            "coverage": np.nan if coverage is None else float(coverage),
            "set_coverage": float(np.mean([t in s for t, s in zip(yte.astype(str), sets[mode])]))
            if sets.get(mode) is not None else np.nan,
            "mean_set_size": float(np.mean([len(s) for s in sets[mode]])) if sets.get(mode) is not None else np.nan,
        })
    df = pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))
    df.attrs.update({"synthetic": bool(train.synthetic or test.synthetic), "n_train": int(train.n_clips),
                     "n_test": int(test.n_clips), "model": model, "weights": weights, "n_boot": int(n_boot),
                     "cv_fallback": fallback, "no_sets": no_sets})
    return df


def _sets(mode, est, shared, names, blocks, Xtr, Ztr, ytr, groups, P, coverage, cv, random_state, n_jobs):
    """One mode's conformal prediction sets on the test clips, calibrated as ``fit`` calibrates a run."""
    if mode in names and "oof" in shared[mode]:
        # The shared members' out-of-fold probabilities: the same folds and fixed hyper-parameters
        # calibration_probabilities would use, already computed.
        oof = shared[mode]["oof"]
    else:
        X = Ztr[:, blocks[mode]] if mode in names else Xtr if mode in ("late", "weighted") else Ztr
        oof, _ = calibration_probabilities(est, X, ytr, groups, cv=cv, random_state=random_state, n_jobs=n_jobs)
    record = calibration_record(oof, ytr, est.classes_)
    return prediction_sets(P, [str(c) for c in est.classes_], record, coverage)


def _sets_or_none(*args):
    """:func:`_sets`, or ``(None, why)`` when the calibration folds cannot be fitted (too few clips)."""
    try:
        return _sets(*args), None
    except DataError as exc:
        return None, str(exc)


def _with_class_weight(estimator, class_weight):
    """``estimator`` with its heads' ``class_weight`` set (unchanged for ``None``)."""
    if class_weight is None:
        return estimator
    return estimator.set_params(**class_weight_params(estimator, class_weight))


def _weighted_what(mode, class_weight):
    """What ``class_weight`` weighted in ``mode``, for the table: every mode weighs its classifiers alike."""
    if class_weight is None:
        return "none"
    text = class_weight if isinstance(class_weight, str) else "given"
    return {"late": f"{text} (heads; stacker unweighted)", "weighted": f"{text} (heads; blend unweighted)",
            "intermediate": f"{text} (network)"}.get(mode, f"{text} (head)")


def _fmt_or_blank(value, digits):
    return "" if value is None or np.isnan(value) else f"{value:.{digits}f}"


def _fmt_p(p):
    if p is None or (isinstance(p, float) and np.isnan(p)):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_compare(df, *, markdown=True):
    """The comparison table as Markdown (or aligned plain text), with a header line saying what data it is.

    The header says "synthetic" whenever the data was made by the generator.
    """
    a = df.attrs
    what = "synthetic data (not real results)" if a.get("synthetic") else "features"
    head = (f"Fusion comparison on {what}: train {a.get('n_train', '?')} clips, evaluate {a.get('n_test', '?')} "
            f"clips, head {a.get('model', '?')} (intermediate: its own network); 95% bootstrap intervals "
            f"({a.get('n_boot', '?')} resamples); "
            "McNemar p against the best single modality.")
    sets = len(df) and "mean_set_size" in df and df["mean_set_size"].notna().any()
    level = f"{df['coverage'].iloc[0]:g}" if sets else ""
    cols = ["mode", "accuracy (95% CI)", "balanced acc", "log_loss (95% CI)", "log_loss_ref3", "macro F1", "fit s",
            "predict s", "vs", "McNemar p", "class weight",
            *([f"set size at {level}", f"coverage at {level}"] if sets else [])]
    body = [[r["mode"], f"{r['accuracy']:.3f} [{r['accuracy_low']:.3f}, {r['accuracy_high']:.3f}]",
             f"{r['balanced_accuracy']:.3f}",
             f"{r['log_loss']:.3f} [{r['log_loss_low']:.3f}, {r['log_loss_high']:.3f}]",
             f"{r['log_loss_ref3']:.3f}", f"{r['macro_f1']:.3f}",
             f"{r['fit_time_s']:.1f}", f"{r['predict_time_s']:.2f}", r["vs"], _fmt_p(r["mcnemar_p"]),
             str(r.get("class_weight", "none")),
             *([_fmt_or_blank(r["mean_set_size"], 2), _fmt_or_blank(r["set_coverage"], 3)] if sets else [])]
            for _, r in df.iterrows()]
    foot = ["log_loss: exact, from the models' probabilities; log_loss_ref3: over them rounded to 3 decimals, "
            "as prediction.csv prints them and the reference scoring reads them."]
    if a.get("weights"):
        foot.append("weighted fusion weights: " + ", ".join(f"{k} {v:.3f}" for k, v in a["weights"].items()))
    n_missing = int(df["n_missing"].max()) if len(df) else 0
    if n_missing:
        foot.append(f"{n_missing} evaluation clip(s) lack a modality and were predicted from the ones present; a "
                    "mode with none of a clip's modalities (a single modality) gave it the training class prior")
    foot.append("late/weighted fit time includes the shared per-modality pipelines (trained once, reused).")
    for mode, why in (a.get("no_sets") or {}).items():
        foot.append(f"{mode}: no prediction sets, its calibration folds could not be fitted ({why.split('; ')[0]})")
    if sets:
        foot.append(f"set size at {level}: mean size of conformal prediction sets calibrated on location-grouped "
                    "out-of-fold probabilities of the training clips; coverage: share of evaluation clips whose set "
                    "holds the true scene.")
    if a.get("cv_fallback"):
        foot.append(f"late/weighted out-of-fold probabilities: {a['cv_fallback']}")
    if markdown:
        lines = [head, "", "| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines + [""] + foot) + "\n"
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c) for i, c in enumerate(cols)]
    lines = [head, "", "  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in body]
    return "\n".join(lines + [""] + foot) + "\n"
