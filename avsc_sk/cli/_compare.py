"""avsc-sk compare: train every fusion mode on one split, score each on another, print and save the table."""

from pathlib import Path

from .._io import atomic_dir, check_output
from .._load import load_split
from ._common import FUSION_MODES, HEADS, add_class_weight, add_features_args, add_force, add_quiet, synthetic_banner
from ._predict import add_n_jobs

__all__ = ["add_parser", "run", "write_compare"]


def add_parser(sub):
    p = sub.add_parser("compare", help="compare single-modality and fusion modes on one split",
                       description="Train every mode on the same training split, score each on the same "
                                   "evaluation split, and write compare.csv and compare.md: accuracy, "
                                   "log_loss (exact) and log_loss_ref3 (3 decimals, the reference "
                                   "scoring's) with 95% bootstrap intervals, balanced accuracy, macro F1, fit and "
                                   "predict time, and "
                                   "McNemar's test of each fusion against the best single modality.")
    add_features_args(p)
    p.add_argument("--train-split", default=None,
                   help="split to train on (default: train+val, or the one of them the features hold)")
    p.add_argument("--eval-split", default="test", help="labelled split to score on (default: test)")
    p.add_argument("--model", default="logreg", choices=HEADS, help="head of the pipelines (default: logreg); intermediate fusion is its own network and takes none")
    p.add_argument("--fusions", default=None, metavar="MODES",
                   help="comma-separated modes, e.g. audio,video,early,intermediate,late,weighted "
                        f"(default: every modality of the data, then {','.join(FUSION_MODES)})")
    add_class_weight(p)
    p.add_argument("--seed", type=int, default=0, help="random seed of the models and the bootstrap (default: 0)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    p.add_argument("--coverage", default="0.9", metavar="C",
                   help="coverage of the conformal prediction sets whose mean size and empirical coverage each "
                        "mode's row shows (default: 0.9; 'none': no sets, which saves each mode's five "
                        "calibration fits)")
    add_n_jobs(p, "the per-modality pipelines and their internal folds are fitted N at once (processes)")
    p.add_argument("--out", type=Path, required=True, help="directory to create with compare.csv and compare.md")
    add_force(p)
    add_quiet(p)
    p.set_defaults(func=run)


def write_compare(df, out, *, force=False):
    """Write ``compare.csv`` and ``compare.md`` into a new directory ``out`` (atomically)."""
    from ..experiments import format_compare

    banner = synthetic_banner(df.attrs.get("synthetic"))
    # Marked by a last column, which CSV readers take like any other (a comment line would trip them).
    table = df.assign(data="synthetic") if banner else df
    with atomic_dir(out, force=force) as tmp:
        table.to_csv(tmp / "compare.csv", index=False, float_format="%.6g")
        (tmp / "compare.md").write_text((f"**{banner}**\n\n" if banner else "") + format_compare(df),
                                        encoding="utf-8")
    return Path(out)


def run(args):
    from .._progress import terminal_progress
    from ..experiments import compare_fusions, format_compare

    check_output(args.out, force=args.force, what="output directory")  # fail before the long work
    from ..evaluation import check_coverage

    coverage = None if str(args.coverage).lower() == "none" else check_coverage(args.coverage)
    from .._load import training_split
    from ..runs import partial_summary, scoring_warnings
    from ._predict import warn

    split, note = (args.train_split, None) if args.train_split else training_split(args.features, args.meta)
    if note:
        print(note)
    # compare pools every mode with the means: read only those.
    kw = dict(max_frames=args.max_frames, allow_missing_modality=args.allow_missing_modality, stats=("mean",),
              meta=args.meta)
    train = load_split(args.features, split, **kw)
    if message := partial_summary(train):
        warn(message)
    test = load_split(args.features, args.eval_split, **kw)
    if train.y is not None and test.y is not None:
        for message in scoring_warnings(train.classes, train.clip_ids, test,
                                        trained=f"the training split {train.split}"):
            warn(message)
    df = compare_fusions(train, test, fusions=args.fusions, model=args.model, random_state=args.seed,
                         n_boot=args.n_boot, n_jobs=args.n_jobs, class_weight=args.class_weight,
                         coverage=coverage, progress=terminal_progress(args.quiet))
    write_compare(df, args.out, force=args.force)
    banner = synthetic_banner(df.attrs.get("synthetic"))
    if banner:
        print(banner)
    print(format_compare(df, markdown=False), end="")
    print(f"wrote {args.out / 'compare.csv'} and {args.out / 'compare.md'}")
    return 0
