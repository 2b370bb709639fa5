"""``avsc-sk synth``: write synthetic TAU-like features (real clip names, made-up embeddings) in any layout."""

__all__ = ["add_parser", "run", "summary_line"]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "synth",
        help="write SYNTHETIC TAU-like OpenL3-shaped features (train, val, test) in layout A, B or native",
        description="Generate deterministic synthetic embeddings for the real fold1 clips of TAU Urban "
                    "Audio-Visual Scenes 2021 (real names, labels, locations and splits; made-up values) and "
                    "write all three splits. For trying the tools without the real features; results on "
                    "them say nothing about real data.",
    )
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output root (layouts A, B) or .h5 file / folder (native)")
    parser.add_argument("--layout", choices=("A", "B", "native"), default="native",
                        help="file layout (default native)")
    parser.add_argument("--clips", type=int, default=None, metavar="N",
                        help="a stratified subset of N clips over the three splits (default all 12,291)")
    parser.add_argument("--frames", type=int, default=96, metavar="K", help="frames per clip (default 96)")
    parser.add_argument("--dim", type=int, default=512, metavar="D", help="values per frame (default 512)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--force", action="store_true", help="replace the output if it exists")
    parser.set_defaults(func=run)
    return parser


def summary_line(result):
    """One line saying that SYNTHETIC data was written, where, and how many clips."""
    n = sum(result.splits.values())
    splits = ", ".join(f"{s} {k}" for s, k in result.splits.items())
    return (f"wrote SYNTHETIC TAU-like data to {result.path} (layout {result.layout}): {n} clips ({splits}), "
            f"{result.n_frames} frames x {result.dim}, seed {result.seed}")


def run(args):
    from ..datasets import write_tau_like

    result = write_tau_like(args.out, layout=args.layout, n_clips=args.clips, n_frames=args.frames,
                            dim=args.dim, seed=args.seed, force=args.force)
    print(summary_line(result))
    return 0
