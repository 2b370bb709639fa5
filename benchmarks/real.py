"""avsc-sk's defaults against one-line scikit-learn peers on real (not generated) two-view data.

Two real multi-class sets that ship with scikit-learn, each split into two views used as
modalities (one frame of ``dim`` features each, the FeatureSet layout):

* ``digits``: ``load_digits`` (1,797 8x8 images, 10 classes), view ``left`` = the image's left
  4 columns, ``right`` = its right 4 columns (32 pixels each);
* ``wine``: ``load_wine`` (178 wines, 3 cultivars), view ``chem`` = the first 7 measurements
  (alcohol ... flavanoids), ``color`` = the other 6 (non-flavanoid phenols ... proline).

Neither has recording locations, so the samples, in a fixed shuffled order (seed 0), get
pseudo-locations: blocks of ``block`` consecutive samples (20 for digits, 10 for wine, which
has only 178). One fixed split (GroupShuffleSplit, seed 0) keeps half the locations for test.
UCI Multiple Features is deliberately not here: it is held out as an independent check.

Every avsc-sk mode is built with its defaults through the public API (``make_estimator``), and
the automatic selections (``AutoFusionClassifier``, what ``--fusion auto`` and ``--fusion auto
--model auto`` fit), the peers as a new user would write them. Printed per set: accuracy and exact log loss on the
test half, each with a 95% percentile bootstrap interval over test samples (1,000 resamples), and
the fit's wall-clock and CPU seconds (this process's; the CPU figure is the one to trust on a
shared machine).

``--partial`` instead trains each fusion mode with half of the training samples lacking one
view, on all of them and on the complete ones only (:func:`run_partial`).

``--distill`` instead compares each view trained on its labels alone with the same view taught
by a fused teacher's out-of-fold probabilities (:func:`run_distill`).

``--member-tuning`` instead fits late and weighted fusion with their members' hyper-parameters
chosen once on all training samples (``member_tuning="once"``, the default) and again inside
every internal fold (``"nested"``), and prints each member's out-of-fold log loss (what the
stacker and the blend learn from) and the test log loss (:func:`run_member_tuning`).

Usage: python benchmarks/real.py [--sets digits wine] [--n-boot 1000] [--partial | --distill | --member-tuning]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, load_wine
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from avsc_sk.experiments import AutoFusionClassifier
from avsc_sk.fusion import MEMBER_TUNING, DistilledClassifier, fit_members, grouped_splits, make_estimator
from avsc_sk.heads import fit_with_groups

SETS = ("digits", "wine")


def load_views(name, seed=0):
    """One real set as two views: ``X`` (float64), ``y``, ``groups``, ``modalities``, ``train``, ``test`` indices."""
    if name == "digits":
        data = load_digits()
        images = data.images.reshape(len(data.target), 8, 8)
        views = {"left": images[:, :, :4].reshape(-1, 32), "right": images[:, :, 4:].reshape(-1, 32)}
        block = 20
    elif name == "wine":
        data = load_wine()
        views = {"chem": data.data[:, :7], "color": data.data[:, 7:]}
        block = 10
    else:
        raise ValueError(f"unknown set {name!r}; expected one of {', '.join(SETS)}")
    order = np.random.default_rng(seed).permutation(len(data.target))
    X = np.hstack(list(views.values()))[order].astype(np.float64)
    y = data.target[order]
    groups = np.arange(len(y)) // block
    train, test = next(GroupShuffleSplit(n_splits=1, test_size=0.5, random_state=seed).split(X, y, groups))
    modalities = tuple((view, 1, v.shape[1]) for view, v in views.items())
    return {"X": X, "y": y, "groups": groups, "modalities": modalities, "train": train, "test": test}


def _select(modalities, view):
    start = 0
    for name, _, dim in modalities:
        if name == view:
            return ColumnTransformer([(view, "passthrough", slice(start, start + dim))])
        start += dim
    raise KeyError(view)


def _lr():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def avsc_models(modalities):
    """``{label: estimator}``: every avsc-sk mode with its defaults, and the automatic selections.

    ``--fusion auto`` is :class:`AutoFusionClassifier` choosing the mode with the default head
    (``models="logreg"``), ``--fusion auto --model auto`` the mode and the head, as ``avsc-sk fit``
    builds them (default budget and seed).
    """
    views = [m[0] for m in modalities]
    modes = [*views, "early", "intermediate", "late", "weighted"]
    out = {f"avsc-sk {mode}": make_estimator(mode, modalities) for mode in modes}
    out["avsc-sk --fusion auto"] = AutoFusionClassifier(modalities, fusions="auto", models="logreg")
    out["avsc-sk --fusion auto --model auto"] = AutoFusionClassifier(modalities, fusions="auto", models="auto")
    return out


def peer_models(modalities):
    """``{label: estimator}``: scikit-learn peers, written as a new user would."""
    views = [m[0] for m in modalities]
    per_view = [(v, make_pipeline(_select(modalities, v), StandardScaler(), LogisticRegression(max_iter=1000)))
                for v in views]
    svcs = [(v, make_pipeline(_select(modalities, v), StandardScaler(), SVC(C=10.0))) for v in views]
    out = {f"LR {v}": est for v, est in per_view}
    out["LR concatenated"] = _lr()
    out["VotingClassifier(LR, soft)"] = VotingClassifier(per_view, voting="soft")
    out["StackingClassifier(LR)"] = StackingClassifier(per_view, final_estimator=LogisticRegression(max_iter=1000))
    # SVC's own probabilities are deprecated; stacking its decision values is the peer's own way.
    out["StackingClassifier(RBF SVC)"] = StackingClassifier(svcs, final_estimator=LogisticRegression(max_iter=1000))
    return out


def bootstrap(y, P, classes, n_boot=1000, seed=0):
    """Accuracy and exact log loss with 95% percentile bootstrap intervals over test samples."""
    idx = np.searchsorted(classes, y)
    correct = (P.argmax(axis=1) == idx).astype(float)
    losses = -np.log(np.clip(P[np.arange(len(y)), idx], np.finfo(float).eps, 1.0))
    W = np.random.default_rng(seed).multinomial(len(y), np.full(len(y), 1.0 / len(y)), size=n_boot) / len(y)
    out = {}
    for name, per in (("accuracy", correct), ("log_loss", losses)):
        lo, hi = np.percentile(W @ per, [2.5, 97.5])
        out[name] = (float(per.mean()), float(lo), float(hi))
    assert np.isclose(out["log_loss"][0], log_loss(y, P, labels=classes))
    return out


def run_set(name, n_boot=1000, models=None):
    """``{label: {"accuracy": (est, lo, hi), "log_loss": (...), "fit_s": s}}`` on one set."""
    d = load_views(name)
    X, y, g, tr, te = d["X"], d["y"], d["groups"], d["train"], d["test"]
    models = models or {**avsc_models(d["modalities"]), **peer_models(d["modalities"])}
    results = {}
    for label, est in models.items():
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # peers' convergence chatter
            fit_with_groups(est, X[tr], y[tr], g[tr])
        fit_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        res = bootstrap(y[te], est.predict_proba(X[te]), est.classes_, n_boot)
        res["fit_s"], res["cpu_s"] = fit_s, cpu_s
        if isinstance(est, AutoFusionClassifier):
            res["chose"] = f"{est.best_fusion_} ({est.best_model_})"
        results[label] = res
    return results


def format_results(name, results):
    d = load_views(name)
    width = max(30, *(len(label) for label in results))
    lines = [f"{name}: {len(d['train'])} train / {len(d['test'])} test samples, "
             f"{len(np.unique(d['groups']))} pseudo-locations, views "
             + ", ".join(f"{m[0]} ({m[2]})" for m in d["modalities"]),
             f"  {'system':{width}s} {'accuracy [95% CI]':>24s} {'log loss [95% CI]':>24s} {'fit s':>6s} {'cpu s':>6s}"]
    for label, r in results.items():
        a, ll = r["accuracy"], r["log_loss"]
        lines.append(f"  {label:{width}s} {a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}]   {ll[0]:.3f} [{ll[1]:.3f}, {ll[2]:.3f}]"
                     f"   {r['fit_s']:5.1f}  {r['cpu_s']:5.1f}" + (f"   chose {r['chose']}" if "chose" in r else ""))
    return "\n".join(lines)


PARTIAL_MODES = ("early", "intermediate", "late", "weighted")


def run_partial(name, n_boot=1000, share=0.5, seed=0):
    """Training clips that lack a view: the partial clips used, against the complete clips alone.

    For each view, a ``share`` of the training samples (seeded) lose it (its block set to NaN,
    as ``--allow-missing-modality`` reads a missing modality). Each fusion mode with its
    defaults is trained twice: on every training sample (``partial used``) and on the samples
    that kept both views only (``complete only``); both are scored on the whole test half.
    Returns ``{view: {mode: {"partial used": bootstrap, "complete only": bootstrap}}}``.
    """
    d = load_views(name)
    X, y, g, tr, te = d["X"], d["y"], d["groups"], d["train"], d["test"]
    rng = np.random.default_rng(seed)
    out = {}
    start = 0
    for view, _, dim in d["modalities"]:
        lose = rng.random(len(tr)) < share
        Xtr = X[tr].copy()
        Xtr[np.ix_(lose, np.arange(start, start + dim))] = np.nan
        start += dim
        out[view] = {}
        for mode in PARTIAL_MODES:
            res, losses = {}, []
            for label, rows in (("partial used", np.arange(len(tr))), ("complete only", np.flatnonzero(~lose))):
                est = make_estimator(mode, d["modalities"])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit_with_groups(est, Xtr[rows], y[tr][rows], g[tr][rows])
                P = est.predict_proba(X[te])
                res[label] = bootstrap(y[te], P, est.classes_, n_boot)
                idx = np.searchsorted(est.classes_, y[te])
                losses.append(-np.log(np.clip(P[np.arange(len(te)), idx], np.finfo(float).eps, 1.0)))
            # Paired: the same resampled test samples for both, so the interval is the difference's own.
            diff = losses[0] - losses[1]
            W = np.random.default_rng(seed).multinomial(len(te), np.full(len(te), 1.0 / len(te)),
                                                        size=n_boot) / len(te)
            lo, hi = np.percentile(W @ diff, [2.5, 97.5])
            res["difference"] = (float(diff.mean()), float(lo), float(hi))
            out[view][mode] = res
    return out


def format_partial(name, results, share=0.5):
    lines = [f"{name}: {share:.0%} of the training samples lack one view; test log loss [95% CI], "
             "partial samples used vs complete samples only, and their paired difference (negative: better)"]
    for view, modes in results.items():
        for mode, res in modes.items():
            a, b, c = res["partial used"]["log_loss"], res["complete only"]["log_loss"], res["difference"]
            lines.append(f"  lacking {view:6s} {mode:13s} {a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}]  vs  "
                         f"{b[0]:.3f} [{b[1]:.3f}, {b[2]:.3f}]   difference {c[0]:+.3f} [{c[1]:+.3f}, {c[2]:+.3f}]")
    return "\n".join(lines)


def paired_difference(y, P_a, P_b, classes, n_boot=1000, seed=0):
    """Mean test log loss of ``P_a`` minus ``P_b`` with a 95% paired bootstrap interval (same resamples)."""
    idx = np.searchsorted(classes, y)
    rows = np.arange(len(y))
    diff = (-np.log(np.clip(P_a[rows, idx], np.finfo(float).eps, 1.0))
            + np.log(np.clip(P_b[rows, idx], np.finfo(float).eps, 1.0)))
    W = np.random.default_rng(seed).multinomial(len(y), np.full(len(y), 1.0 / len(y)), size=n_boot) / len(y)
    lo, hi = np.percentile(W @ diff, [2.5, 97.5])
    return float(diff.mean()), float(lo), float(hi)


DISTILL_TEACHERS = ("early", "weighted")


def run_distill(name, n_boot=1000, teachers=DISTILL_TEACHERS):
    """Cross-modal transfer: each view's student taught by a fused teacher, against the view on labels alone.

    The teacher (each of ``teachers``, defaults, fitted on the training half as ``avsc-sk fit``
    fits it) teaches a single-view student (defaults: the logreg head choosing C on grouped
    inner folds) through :class:`~avsc_sk.fusion.DistilledClassifier` (``alpha`` 0.5, five
    grouped folds), what ``avsc-sk fit --fusion VIEW --teacher RUN`` builds. Both students
    are scored on the test half, which only they see: one view.
    Returns ``{view: {"labels only": bootstrap, teacher: {"student": bootstrap, "teacher":
    bootstrap, "difference": (mean, lo, hi), "oof_log_loss": float}}}``.
    """
    d = load_views(name)
    X, y, g, tr, te, mods = d["X"], d["y"], d["groups"], d["train"], d["test"], d["modalities"]
    out = {}
    fitted = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for teacher in teachers:
            fitted[teacher] = fit_with_groups(make_estimator(teacher, mods), X[tr], y[tr], g[tr])
        for view, _, _ in mods:
            plain = fit_with_groups(make_estimator(view, mods), X[tr], y[tr], g[tr])
            P_plain = plain.predict_proba(X[te])
            res = {"labels only": bootstrap(y[te], P_plain, plain.classes_, n_boot)}
            for teacher, model in fitted.items():
                student = DistilledClassifier(make_estimator(view, mods), model)
                student.fit(X[tr], y[tr], groups=g[tr])
                P = student.predict_proba(X[te])
                res[teacher] = {"student": bootstrap(y[te], P, student.classes_, n_boot),
                                "teacher": bootstrap(y[te], model.predict_proba(X[te]), model.classes_, n_boot),
                                "difference": paired_difference(y[te], P, P_plain, student.classes_, n_boot),
                                "oof_log_loss": student.teacher_oof_log_loss_}
            out[view] = res
    return out


def format_distill(name, results):
    lines = [f"{name}: single-view students, taught by a fused teacher vs trained on labels alone; test log loss "
             "[95% CI] and the paired difference (negative: the teacher helped)"]
    for view, res in results.items():
        b = res["labels only"]["log_loss"]
        lines.append(f"  {view:6s} labels only              {b[0]:.3f} [{b[1]:.3f}, {b[2]:.3f}]  "
                     f"accuracy {res['labels only']['accuracy'][0]:.3f}")
        for teacher, r in res.items():
            if teacher == "labels only":
                continue
            a, c, t = r["student"]["log_loss"], r["difference"], r["teacher"]["log_loss"]
            lines.append(f"  {view:6s} taught by {teacher:9s}      {a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}]  "
                         f"accuracy {r['student']['accuracy'][0]:.3f}   difference {c[0]:+.3f} [{c[1]:+.3f}, "
                         f"{c[2]:+.3f}]   (teacher test {t[0]:.3f}, out-of-fold {r['oof_log_loss']:.3f})")
    return "\n".join(lines)


def run_member_tuning(name, n_boot=1000):
    """Late and weighted fusion with ``member_tuning`` "once" and "nested" on one set.

    Returns ``{(mode, member_tuning): {"oof": {view: log loss}, "log_loss": (est, lo, hi),
    "accuracy": (...), "cpu_s": s}}``. The out-of-fold probabilities are the members' over the
    internal folds late and weighted fusion use (the same for both modes), made by
    :func:`avsc_sk.fusion.fit_members` as their ``fit`` makes them.
    """
    d = load_views(name)
    X, y, g, tr, te, mods = d["X"], d["y"], d["groups"], d["train"], d["test"], d["modalities"]
    template = make_estimator("late", mods)
    pooler = clone(template.pooler)
    Z = pooler.fit_transform(X[tr])
    blocks = [pooler.output_indices_[view] for view, _ in template.estimators]
    splits = grouped_splits(Z, y[tr], g[tr], template.cv, template.random_state)
    classes = np.unique(y[tr])
    out = {}
    for tuning in MEMBER_TUNING:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, oof, _ = fit_members(template.estimators, Z, blocks, y[tr], g[tr], splits, classes,
                                    member_tuning=tuning)
        oof_ll = {view: float(log_loss(y[tr], P, labels=classes)) for (view, _), P in zip(template.estimators, oof)}
        for mode in ("late", "weighted"):
            est = make_estimator(mode, mods).set_params(member_tuning=tuning)
            c0 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_with_groups(est, X[tr], y[tr], g[tr])
            cpu_s = time.process_time() - c0
            res = bootstrap(y[te], est.predict_proba(X[te]), est.classes_, n_boot)
            out[(mode, tuning)] = {"oof": oof_ll, "log_loss": res["log_loss"], "accuracy": res["accuracy"],
                                   "cpu_s": cpu_s}
    return out


def format_member_tuning(name, results):
    lines = [f"{name}: late and weighted fusion, members' hyper-parameters chosen once vs nested",
             f"  {'mode':9s} {'tuning':7s} {'members out-of-fold log loss':34s} {'test log loss [95% CI]':>24s} "
             f"{'accuracy':>8s} {'fit cpu s':>9s}"]
    for (mode, tuning), r in results.items():
        oof = ", ".join(f"{view} {v:.4f}" for view, v in r["oof"].items())
        ll = r["log_loss"]
        lines.append(f"  {mode:9s} {tuning:7s} {oof:34s} {ll[0]:.4f} [{ll[1]:.3f}, {ll[2]:.3f}]   "
                     f"{r['accuracy'][0]:.3f}   {r['cpu_s']:7.1f}")
    for mode in ("late", "weighted"):
        once, nested = results[(mode, "once")], results[(mode, "nested")]
        lines.append(f"  {mode}: once - nested: test log loss {once['log_loss'][0] - nested['log_loss'][0]:+.4f}, "
                     f"fit cpu {once['cpu_s']:.1f} s vs {nested['cpu_s']:.1f} s")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--partial", action="store_true",
                    help="only the comparison of training with and without the samples that lack a view")
    ap.add_argument("--member-tuning", action="store_true", help="late and weighted fusion: once vs nested")
    ap.add_argument("--distill", action="store_true",
                    help="cross-modal transfer: single-view students taught by fused teachers vs labels alone")
    args = ap.parse_args()
    for name in args.sets:
        if args.partial:
            print(format_partial(name, run_partial(name, args.n_boot)))
        elif args.distill:
            print(format_distill(name, run_distill(name, args.n_boot)))
        elif args.member_tuning:
            print(format_member_tuning(name, run_member_tuning(name, args.n_boot)))
        else:
            print(format_results(name, run_set(name, args.n_boot)))
        print()


if __name__ == "__main__":
    main()
