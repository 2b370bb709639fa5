"""``avsc-sk extract``: classical audio/video descriptors from raw TAU wav/mp4 files to a native .h5 file."""

from pathlib import Path

from ._common import add_quiet

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "extract",
        help="extract classical audio/video descriptors from the raw wav and mp4 files",
        description="Compute classical scene descriptors (log-mel, MFCC, spectral shape and stereo cues for audio; "
                    "colour, gradient, edge, brightness and motion statistics for video), one frame per --hop "
                    "seconds, into a native avsc-sk .h5 file. Clips already in --out are skipped, so an "
                    "interrupted run resumes; unreadable files are reported and skipped (exit status 1).",
    )
    parser.add_argument("--audio-dir", type=Path, metavar="DIR", help="folder of <clip>.wav files")
    parser.add_argument("--video-dir", type=Path, metavar="DIR", help="folder of <clip>.mp4 files")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--meta", type=Path, metavar="meta.csv",
                       help="the dataset's meta.csv: its clips, in their fold1 split (or 'all')")
    which.add_argument("--list", dest="lists", type=Path, action="append", default=[], metavar="LIST.csv",
                       help="a split list such as evaluation_setup/fold1_train.csv (repeatable); "
                            "fold1_train* -> train, fold1_evaluate*/fold1_test* -> test, other -> file stem")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.h5", help="native feature file to write")
    parser.add_argument("--hop", type=float, default=1.0, metavar="S", help="seconds per feature frame (default 1.0)")
    parser.add_argument("--duration", type=float, default=10.0, metavar="S",
                        help="nominal clip length; every clip gets floor(duration/hop) frames (default 10.0)")
    parser.add_argument("--image-rate", type=float, default=4.0, metavar="HZ",
                        help="video images sampled per second (default 4)")
    parser.add_argument("--n-jobs", type=int, default=1, metavar="N", help="clips extracted at once (-1: all cores)")
    parser.add_argument("--backend", choices=("loky", "dask"), default="loky",
                        help="local processes (loky) or a dask.distributed cluster (needs avsc-sk[dask])")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --backend dask: scheduler address, or 'local' (default) for a local cluster")
    parser.add_argument("--chunk-size", type=int, default=64, metavar="N",
                        help="clips per write; an interruption loses at most one chunk (default 64)")
    parser.add_argument("--force", action="store_true", help="start a new --out instead of resuming it")
    add_quiet(parser, "; skipped clips are still listed")
    parser.set_defaults(func=run)
    return parser


def run(args):
    from .._progress import note, terminal_progress
    from ..extract import extract_features

    summary = extract_features(
        args.out, args.audio_dir, args.video_dir, meta=args.meta, lists=args.lists, hop=args.hop,
        duration=args.duration, image_rate=args.image_rate, n_jobs=args.n_jobs, backend=args.backend,
        scheduler=args.scheduler, chunk_size=args.chunk_size, force=args.force,
        progress=terminal_progress(args.quiet),
        on_skip=lambda clip_id, reason: note(f"extract: skipped {clip_id}: {reason}"),
    )
    rate = summary.n_written / summary.seconds if summary.seconds > 0 else 0.0
    per_split = ", ".join(f"{s} {n}" for s, n in sorted(summary.splits.items()))
    print(f"wrote {summary.out}: {summary.n_written} clips extracted ({rate:.2f} clips/s)"
          f"{f' [{per_split}]' if per_split else ''}, {summary.n_already} already there, "
          f"{len(summary.skipped)} skipped")
    if summary.other_splits:
        print(f"note: split(s) {', '.join(summary.other_splits)} hold clips outside fold1 (or from lists not named "
              "train/val/test); fit/evaluate read only train, val and test: name the split with "
              "--list fold1_train*.csv / val.csv / fold1_evaluate*.csv")
    if summary.skipped:
        print(f"skipped {len(summary.skipped)} clips (re-run the same command to retry them):")
        for clip_id, reason in summary.skipped[:20]:
            print(f"  {clip_id}: {reason}")
        if len(summary.skipped) > 20:
            print(f"  ... and {len(summary.skipped) - 20} more (listed above as they happened)")
        return 1
    return 0
