"""avsc-sk tune: search a grid file's parameters with folds grouped by recording location."""

import json
import sys
import time
from pathlib import Path

from .._config import apply_overrides, dump_config
from .._io import atomic_dir, check_output
from .._load import load_split
from ..errors import RunError
from ._common import add_class_weight, add_features_args, add_force, add_quiet, synthetic_banner


def add_parser(sub):
    p = sub.add_parser(
        "tune", help="grid / halving / random search over a pipelines/grid-*.toml file",
        description="Search the [grid] of a grid file with stratified folds grouped by recording location, rank by "
                    "log loss "
                    "(accuracy recorded too), refit the best, and write cv_results.csv, results.md, best.toml "
                    "and search.png to --out. 'avsc-sk fit --config OUT/best.toml' reproduces the refit model.")
    p.add_argument("grid", type=Path, help="a grid file, e.g. pipelines/grid-late.toml")
    add_features_args(p, split="train+val")
    p.set_defaults(split=None)  # train+val, or the one of them the features hold
    p.add_argument("--search", choices=("grid", "halving", "random"), default="grid",
                   help="GridSearchCV, HalvingGridSearchCV or RandomizedSearchCV (default: grid)")
    p.add_argument("--n-iter", type=int, default=10, metavar="N", help="candidates sampled by --search random")
    p.add_argument("--cv", type=int, default=5, metavar="K",
                   help="folds, stratified and grouped by location (default: 5; fewer, with a warning, when a "
                        "training part would lack a class)")
    p.add_argument("--cv-groups", choices=("location", "none"),
                   help="'none': stratified folds that share locations, marked optimistic (default: location)")
    p.add_argument("--scoring", default="neg_log_loss",
                   help="metric that ranks candidates and picks the refit (default: neg_log_loss)")
    add_class_weight(p)
    p.add_argument("--n-jobs", type=int, default=1, metavar="N", help="parallel fits (-1: all cores)")
    p.add_argument("--backend", choices=("loky", "threading", "dask"), default="loky",
                   help="joblib backend; dask needs avsc-sk[dask] (default: loky)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --backend dask: tcp://HOST:8786, or 'local' to start a LocalCluster here")
    p.add_argument("--eval-split", default="test",
                   help="labelled split the refitted best model is scored on ('' to skip)")
    p.add_argument("--top", type=int, default=10, help="rows in results.md (default: 10)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a fixed config value, e.g. seed=1 (repeatable)")
    add_quiet(p)
    p.add_argument("--out", type=Path, required=True, help="directory to create for the results")
    add_force(p)
    p.set_defaults(func=run)


def write_outputs(out, config, search, *, header, summary, top=10, force=False):
    """Write the search's results to ``out`` (all files, or none)."""
    from ..tuning import best_config, plot_search, results_table, search_results

    results = search_results(search)
    best = best_config(config, search)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with atomic_dir(out, force=force) as tmp:
        table = results.drop(columns=["params"]).copy()
        table["params"] = [json.dumps(_jsonable(p), sort_keys=True) for p in results["params"]]
        table.to_csv(tmp / "cv_results.csv", index=False)
        title = f"# {header}\n\n" + "".join(f"- {line}\n" for line in summary["lines"]) + "\n"
        (tmp / "results.md").write_text(title + results_table(results, top=top), encoding="utf-8")
        (tmp / "best.toml").write_text(
            dump_config(best, f"{header}\nreproduce: avsc-sk fit --config {Path(out) / 'best.toml'} --out RUN_DIR"),
            encoding="utf-8")
        fig = plot_search(results)
        fig.suptitle(header, fontsize=9)
        fig.savefig(tmp / "search.png", dpi=110)
        plt.close(fig)
        (tmp / "summary.json").write_text(json.dumps({k: v for k, v in summary.items() if k != "lines"},
                                                     indent=2) + "\n", encoding="utf-8")
    return best


def _jsonable(params):
    from ..tuning import plain_value

    return {k: (None if v is None else plain_value(v, k)) for k, v in params.items()}


def run(args):
    from ..model_selection import OPTIMISTIC

    from .._load import available_splits
    from ..runs import build_estimator, read_stats, score_model
    from .._progress import terminal_progress
    from ..tuning import load_grid, make_search, run_search, search_folds

    check_output(args.out, force=args.force, what="output directory")
    config, grid = load_grid(args.grid)
    config = apply_overrides(config, args.overrides)
    if args.cv_groups is not None:
        config["cv_groups"] = args.cv_groups
    if args.backend != "dask" and args.scheduler:
        raise RunError(f"--scheduler {args.scheduler} needs --backend dask; add it or drop --scheduler")
    if args.backend == "dask":
        from .._dask import import_distributed

        import_distributed()  # the one-line install hint before any data is read
    from .._load import training_split

    split, note = (args.split, None) if args.split else training_split(args.features, args.meta)
    if note:
        print(note)
    train = load_split(args.features, split, max_frames=args.max_frames,
                       allow_missing_modality=args.allow_missing_modality, stats=read_stats(config, grid),
                       meta=args.meta)
    from ..runs import partial_summary
    from ._predict import warn as _warn

    if message := partial_summary(train):
        _warn(message)
    if args.class_weight:
        from ..runs import with_class_weight

        config = with_class_weight(config, train.modalities, input_stats=train.stats, class_weight=args.class_weight)
    estimator = build_estimator(config, train.modalities, input_stats=train.stats)
    n_jobs = -1 if args.backend == "dask" and args.n_jobs == 1 else args.n_jobs
    search = make_search(estimator, grid, search=args.search, cv=args.cv, scoring=args.scoring, n_jobs=n_jobs,
                         n_iter=args.n_iter, random_state=config.get("seed", 0),
                         cv_groups=config.get("cv_groups") or "location")
    folds = search_folds(search, train)  # warns or refuses before anything is fitted
    banner = synthetic_banner(train.synthetic)
    if banner:
        print(banner)
    progress = terminal_progress(args.quiet)
    synthetic = " on SYNTHETIC data" if train.synthetic else ""
    from ..fusion import model_name

    model = model_name(config["fusion"], config.get("model"))
    header = f"avsc-sk tune {args.grid.name}: {config['fusion']} ({model}){synthetic}, " \
             f"{args.search} search, {folds.describe()}"
    summary = {"grid": str(args.grid), "fusion": config["fusion"], "model": model, "search": args.search,
               "cv": args.cv, "scoring": args.scoring, "backend": args.backend, "n_clips": int(train.n_clips),
               "synthetic": bool(train.synthetic), "features": str(args.features) if args.features else None,
               "split": split, "folds": folds.as_dict()}
    t0 = time.perf_counter()
    try:
        run_search(search, train, backend=args.backend, scheduler=args.scheduler, progress=progress)
    except KeyboardInterrupt:
        if getattr(search, "partial_results_", None) is None:
            raise
        elapsed = time.perf_counter() - t0
        summary.update(interrupted=True, wall_s=round(elapsed, 1),
                       lines=[f"INTERRUPTED after {elapsed:.0f} s: only the configurations that finished"])
        write_outputs(args.out, config, search, header=header + " (partial)", summary=summary, top=args.top,
                      force=args.force)
        # The dispatcher prints the message and exits 130, as for any Ctrl-C.
        n = len(search.partial_results_["params"])
        raise KeyboardInterrupt(f"interrupted; the {n} configuration{'s' if n > 1 else ''} that finished "
                                f"{'were' if n > 1 else 'was'} kept in {args.out}") from None
    if search.failures_:
        f = search.failures_
        print(f"avsc-sk: warning: {f['n_failed']} of {f['n_candidates']} candidates failed and are scored NaN or "
              f"left out; the first ({f['first']}): {f['error']}", file=sys.stderr)
        summary["failures"] = f
    wall = time.perf_counter() - t0
    n = len(search.cv_results_["params"])
    summary.update(interrupted=False, wall_s=round(wall, 1), n_candidates=n,
                   best_params=_jsonable(search.best_params_), best_cv_score=float(search.best_score_))
    lines = [f"{n} configurations x {folds.n_splits} folds on {train.n_clips} clips in {wall:.1f} s "
             f"({args.backend}); folds: {folds.describe()}"]
    if args.eval_split:
        present = args.eval_split in available_splits(args.features, args.meta)
        if present:
            evaluate = load_split(args.features, args.eval_split, max_frames=args.max_frames,
                                  allow_missing_modality=args.allow_missing_modality, stats=train.stats,
                                  meta=args.meta)
            scores = score_model(search.best_estimator_, evaluate, train=train)
            summary["refit_scores"] = scores
            from ..runs import format_scores, score_label, scoring_warnings
            from ._predict import warn

            for message in scoring_warnings(search.best_estimator_.classes_, train.clip_ids, evaluate,
                                            trained=f"the training split {split}"):
                warn(message)
            lines.append(f"refitted best on {split}; {score_label(scores)}: {format_scores(scores)}")
    summary["lines"] = lines
    write_outputs(args.out, config, search, header=header, summary=summary, top=args.top, force=args.force)
    sign = -1 if args.scoring.startswith("neg_") else 1
    print(lines[0])
    ref = search.cv_results_.get("mean_test_neg_log_loss_ref3")
    ref = f" (log_loss_ref3 {-ref[search.best_index_]:.4f})" if ref is not None else ""
    print(f"best CV {args.scoring.removeprefix('neg_')} {sign * search.best_score_:.4f}{ref}"
          + ("" if folds.grouped else f" ({OPTIMISTIC})") + ": "
          + ", ".join(f"{k}={v}" for k, v in _jsonable(search.best_params_).items()))
    for line in lines[1:]:
        print(line)
    print(f"saved results to {args.out} (reproduce: avsc-sk fit --config {args.out / 'best.toml'} --out RUN_DIR)")
    return 0
