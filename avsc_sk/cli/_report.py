"""avsc-sk report: tables, conflict analysis, plots and an HTML page comparing trained runs."""

from pathlib import Path

from .._io import check_output
from .._load import load_split
from ..errors import DataError
from .._progress import bar, terminal_progress
from ._common import add_features_args, add_force, add_quiet, synthetic_banner
from ._predict import add_n_jobs, add_trust_pickle, features_for, load_runs, meta_for


__all__ = ["add_parser", "run", "run_frames", "run_kinds"]


def add_parser(sub):
    p = sub.add_parser(
        "report", help="report on one or more runs: per-class tables, significance, conflicts, plots, HTML",
        description="Predict the same labelled split with every run and write, into --out: per_class.csv/.md "
                    "(reference scoring layout), side-by-side tables with bootstrap significance markers, the "
                    "audio/video conflict analysis, city and calibration tables, PNG plots, report.md, a "
                    "self-contained report.html and report.json. Runs are named by their fusion mode; each run's "
                    "manifest says whether it is single-modality (the audio and video runs of the conflict "
                    "analysis) or fusion.")
    p.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    add_features_args(p, split="test",
                      default="the features the first run was trained on (its manifest.json: train.source)")
    p.add_argument("--out", type=Path, required=True, help="report directory to write, e.g. reports/fusion")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    p.add_argument("--robustness", action="store_true",
                   help="also score every run with a share (0, 0.25, 0.5, 1) of the clips losing each modality, "
                        "and with Gaussian noise on each modality (SNR 20, 10, 0 dB): a table and a plot")
    p.add_argument("--title", default=None, help="report title (default: 'avsc-sk report: <runs>')")
    add_n_jobs(p, "N runs are predicted at once (threads; one run: N chunks of its clips)")
    add_force(p)
    add_quiet(p)
    add_trust_pickle(p)
    p.set_defaults(func=run)


def run_frames(run_dirs, features=None, split="test", *, max_frames=96, allow_missing_modality=False,
               trust_pickle=False, n_jobs=1, meta=None, progress=None):
    """Load the runs, read the split once, predict it with every run (``n_jobs`` at once, in threads).

    Returns
    -------
    frames : dict of str to DataFrame
        Run name (its fusion mode; ``-2``, ``-3`` ... appended to repeats) to prediction frame.
    data : FeatureSet
    runs : list of Run
    subsets : list of FeatureSet
        What each run predicted (its statistics, its modalities), in ``runs`` order.
    """
    from ..runs import predict_frame

    runs = load_runs(run_dirs, trust_pickle=trust_pickle)
    from ..runs import run_stats

    # Each run reads the statistics (or frames) it was trained on; runs that share them share one read.
    reads = {}

    def read(stats):
        if stats not in reads:
            reads[stats] = load_split(features_for(runs[0], features), split, max_frames=max_frames,
                                      allow_missing_modality=allow_missing_modality, stats=stats,
                                      meta=meta_for(runs[0], features, meta))
        return reads[stats]

    data = read(run_stats(runs[0].manifest))
    if data.y is None:
        raise DataError(f"split {split!r} of {data.source or 'the features'} has no labels; "
                        "a report needs a labelled split (e.g. --split test)")
    from joblib import Parallel, delayed

    from ..runs import feature_warnings
    from ._predict import warn

    names, subsets = [], []
    for r in runs:
        name, i = str(r.name), 2
        while name in names:
            name, i = f"{r.name}-{i}", i + 1
        trained = [m[0] for m in r.manifest.get("modalities", [])]
        own = read(run_stats(r.manifest))
        names.append(name)
        subsets.append(own if list(own.modality_names) == trained or not trained else own.select(trained))
    # Several runs: one run a thread; one run: its clips in chunks. Either way the same frames.
    per_run = 1 if len(runs) > 1 else n_jobs
    predicted = []
    with bar(progress, "report: predict", total=len(runs), unit="run") as shown:
        for frame in Parallel(n_jobs=n_jobs if len(runs) > 1 else 1, prefer="threads", return_as="generator")(
                delayed(predict_frame)(r, subset, n_jobs=per_run) for r, subset in zip(runs, subsets)):
            predicted.append(frame)
            shown.update(1)
    frames = dict(zip(names, predicted))
    for name, r, subset in zip(names, runs, subsets):
        for message in feature_warnings(r.manifest, subset, max_frames=max_frames):
            warn(f"run {name}: {message}")
    return frames, data, runs, subsets


def run_kinds(names, runs):
    """Each run's kind (``fusion`` or its one modality) from its manifest, never from its directory's name.

    A manifest that records no fusion mode or modalities (an older avsc-sk's) leaves the kind to
    the run's name, said once in a warning.
    """
    from ..report import run_kind
    from ._predict import warn

    kinds = {name: run_kind(r.manifest) for name, r in zip(names, runs)}
    guessed = [str(r.path) for name, r in zip(names, runs) if kinds[name] is None]
    if guessed:
        warn(f"the manifest of {', '.join(guessed)} records no fusion mode or modalities (an older avsc-sk wrote "
             "it): its kind (audio, video or fusion) is guessed from its name; re-run avsc-sk fit to record it")
    return {name: kind for name, kind in kinds.items() if kind is not None}


def _media_of(data):
    """Clip id -> (audio path, video path) of features that record their source files, else None."""
    if data.media is None:
        return None
    blank = [""] * data.n_clips
    return dict(zip(data.clip_ids, zip(data.media.get("audio", blank), data.media.get("video", blank))))


def run(args):
    import pandas as pd

    from ..report import build_report, write_report

    check_output(args.out, force=args.force, what="report directory")
    progress = terminal_progress(args.quiet)
    frames, data, runs, subsets = run_frames(args.run_dirs, args.features, args.split, max_frames=args.max_frames,
                                    allow_missing_modality=args.allow_missing_modality,
                                    trust_pickle=args.trust_pickle, n_jobs=args.n_jobs, meta=args.meta,
                                    progress=progress)
    synthetic = bool(data.synthetic or any(r.manifest.get("synthetic") for r in runs))
    title = args.title or f"avsc-sk report: {', '.join(frames)} on split {data.split}"
    city = pd.Series(data.city, index=data.clip_ids)
    missing = dict(zip(data.modality_names, data.missing().sum(axis=0).tolist()))
    robustness = None
    if args.robustness:
        from ..evaluation import robustness_table
        from ..runs import check_features

        with bar(progress, "report: robustness", total=len(runs), unit="run") as shown:
            robustness = {}
            for name, r, subset in zip(frames, runs, subsets):
                robustness[name] = robustness_table(r.model, check_features(r.manifest, subset), seed=args.seed)
                shown.update(1)
    with bar(progress, "report: tables, plots, files", total=2, unit="step") as shown:
        report = build_report(frames, kinds=run_kinds(frames, runs), city=city, synthetic=synthetic,
                              n_boot=args.n_boot, seed=args.seed, title=title, missing=missing,
                              calibration={name: r.manifest.get("calibration") for name, r in zip(frames, runs)},
                              robustness=robustness, media=_media_of(data))
        shown.update(1)
        files = write_report(report, args.out, force=args.force)
        shown.update(1)
    banner = synthetic_banner(synthetic)
    if banner:
        print(banner)
    summary = report.tables["summary"]
    for name, row in summary.iterrows():
        print(f"{name:>14}: accuracy {row['accuracy']:.3f} [{row['accuracy_low']:.3f}, {row['accuracy_high']:.3f}]"
              f"  balanced accuracy {row['balanced_accuracy']:.3f}  log_loss {row['log_loss']:.3f}"
              f"  log_loss_ref3 {row['log_loss_ref3']:.3f}")
    coverage = report.tables.get("coverage")
    if coverage is not None and len(coverage):
        for (name, by, nominal), row in coverage.xs(0.9, level="nominal", drop_level=False).iterrows():
            kind = "per scene (Mondrian)" if by == "class" else "over clips"
            print(f"{name:>14}: prediction sets at 0.9 {kind}: coverage {row['coverage']:.3f} "
                  f"(lowest scene {row['min_scene_coverage']:.3f}), mean size {row['mean_size']:.2f}")
    uncalibrated = [name for name, r in zip(frames, runs) if not r.manifest.get("calibration")]
    if uncalibrated:
        print(f"note: no prediction sets for {', '.join(uncalibrated)}: fitted without calibration")
    for note in report.notes:
        print(f"note: {note}")
    print(f"wrote {len(files)} files to {args.out} (open {Path(args.out) / 'report.html'})")
    return 0
