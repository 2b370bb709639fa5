"""avsc-sk predict: score clips with a saved run and write a DCASE-style prediction file."""

import sys
from pathlib import Path

from .._io import check_output
from .._load import BUILTIN, load_split
from ._common import add_features_args, add_force, synthetic_banner


def add_parser(sub):
    p = sub.add_parser("predict", help="predict clips with a saved run; writes prediction.csv",
                       description="Write the reference prediction format: tab-separated aid, scene_pred, "
                                   "[scene_label,] one probability column per class of the run, printed %.3f "
                                   "(--decimals changes that).")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    add_features_args(p, split="test", default="the features the run was trained on (manifest.json: train.source)")
    p.add_argument("--out", type=Path, required=True, help="prediction file to write, e.g. prediction.csv")
    p.add_argument("--decimals", type=int, default=3, metavar="N",
                   help="decimals of the printed probabilities (default: 3, the reference format, whose log loss "
                        "is log_loss_ref3; e.g. 6 keeps evaluate's log loss within rounding of the exact log_loss)")
    add_coverage_args(p)
    add_n_jobs(p, "clips are predicted in N chunks at once (threads)")
    add_force(p)
    add_trust_pickle(p)
    p.set_defaults(func=run)


def add_coverage_args(parser):
    """``--coverage C`` and ``--coverage-by {all,class}``: conformal prediction sets (checked by the library)."""
    parser.add_argument("--coverage", default=None, metavar="C",
                        help="add a last column prediction_set: per clip the scenes (joined by '|', most probable "
                             "first) of a conformal prediction set that holds the true scene for a share C of "
                             "clips, e.g. 0.9; calibrated on the run's location-grouped out-of-fold probabilities "
                             "of its training clips (manifest.json: calibration)")
    parser.add_argument("--coverage-by", default="all", metavar="{all,class}",
                        help="'all' (default): one threshold from every calibration clip, coverage C over clips; "
                             "'class' (Mondrian): one threshold per scene, coverage C for every scene")
    parser.add_argument("--non-empty", action="store_true",
                        help="give a clip whose set would be empty (no scene probable enough) its most probable "
                             "scene; coverage is then at least C but no longer close to it (a model more accurate "
                             "than C covers as often as it is right)")


def add_n_jobs(parser, what):
    """``--n-jobs N``: parallel work that never changes a result; 1 by default, to keep a small machine responsive."""
    parser.add_argument("--n-jobs", type=_n_jobs, default=1, metavar="N",
                        help=f"parallel jobs: {what}; results do not depend on it (default: 1, which leaves "
                             "the other cores of a small machine free; -1: every core)")


def add_trust_pickle(parser):
    parser.add_argument("--trust-pickle", action="store_true",
                        help="accept a run whose model is model.pkl/model.joblib; loading a pickle runs any code "
                             "it holds, so only for files you made yourself")


def _n_jobs(text):
    import argparse

    try:
        n = int(text)
    except ValueError:
        n = 0
    if n == 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive number of jobs, or -1 for every core")
    return n


def check_coverage_args(args):
    """Refuse a bad ``--coverage``/``--coverage-by`` before any work (the library checks them again)."""
    from ..errors import ConfigError
    from ..evaluation import check_coverage, check_coverage_by

    check_coverage_by(args.coverage_by)
    if args.coverage is None and args.coverage_by != "all":
        raise ConfigError(f"--coverage-by {args.coverage_by} needs --coverage C, e.g. --coverage 0.9")
    if args.coverage is None and args.non_empty:
        raise ConfigError("--non-empty needs --coverage C, e.g. --coverage 0.9 --non-empty")
    if args.coverage is not None:
        check_coverage(args.coverage)


def warn(message):
    """Print one ``avsc-sk: warning:`` line to stderr."""
    print(f"avsc-sk: warning: {message}", file=sys.stderr)


def load_runs(run_dirs, *, trust_pickle=False):
    """Load run directories, warning once for each model read from a pickle."""
    from ..runs import load_run

    runs = [load_run(d, trust_pickle=trust_pickle) for d in run_dirs]
    for r in runs:
        if r.from_pickle:
            warn(f"loaded {r.model_file} with pickle (--trust-pickle); convert it by re-running avsc-sk fit")
    return runs


def features_for(run, features):
    """``--features`` if given, else the features the run was trained on."""
    if features is not None:
        return features
    source = run.manifest.get("train", {}).get("source", BUILTIN)
    return None if source == BUILTIN else Path(source)


def meta_for(run, features, meta):
    """``--meta`` if given; else, reading the run's own features, the meta table it was trained with."""
    if meta is not None or features is not None:
        return meta
    recorded = run.manifest.get("train", {}).get("meta")
    return None if recorded is None else Path(recorded)


def run(args):
    from ..errors import ConfigError
    from ..runs import feature_warnings, predict_frame, run_stats

    check_output(args.out, force=args.force, what="prediction file")
    if not 1 <= args.decimals <= 17:  # before the long work; write_prediction checks it too
        raise ConfigError(f"--decimals {args.decimals}: expected 1 to 17 decimals (3 is the reference format)")
    check_coverage_args(args)
    (fitted,) = load_runs([args.run_dir], trust_pickle=args.trust_pickle)
    data = load_split(features_for(fitted, args.features), args.split, max_frames=args.max_frames,
                      allow_missing_modality=args.allow_missing_modality, stats=run_stats(fitted.manifest),
                      meta=meta_for(fitted, args.features, args.meta))
    frame = predict_frame(fitted, data, n_jobs=args.n_jobs, coverage=args.coverage, coverage_by=args.coverage_by,
                          non_empty=args.non_empty)
    for message in feature_warnings(fitted.manifest, data, max_frames=args.max_frames):
        warn(message)
    from ..evaluation import write_prediction

    write_prediction(args.out, frame, force=args.force, synthetic=data.synthetic, decimals=args.decimals)
    banner = synthetic_banner(data.synthetic)
    if banner:
        print(banner)
    n_missing = int(data.missing().any(axis=1).sum())
    extra = f" ({n_missing} with a missing modality)" if n_missing else ""
    print(f"wrote {len(frame)} predictions{extra} for split {data.split} to {args.out}")
    if args.coverage is not None:
        from ..evaluation import SET_COLUMN, parse_sets, set_sizes

        by = " per scene (Mondrian)" if args.coverage_by == "class" else ""
        sizes = set_sizes(parse_sets(frame[SET_COLUMN]))
        empty = "" if args.non_empty else f", {int((sizes == 0).sum())} empty (no scene sure enough)"
        print(f"prediction sets at coverage {frame.attrs['coverage']:g}{by}: mean size "
              f"{sizes.mean():.2f} scenes{empty} (column {SET_COLUMN})")
    return 0
