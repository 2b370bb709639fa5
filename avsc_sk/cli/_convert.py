"""``avsc-sk convert``: layout-A/B, plain-array (.npy/.npz) or native features to one native avsc-sk HDF5 file."""

from pathlib import Path

__all__ = ["add_parser", "run", "summary_line"]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "convert",
        help="convert feature files (layout A, B, .npy folder, .npz or native) to one native avsc-sk .h5 file",
        description="Read every split (train, val, test) of SRC, in any supported layout, and write them to "
                    "one native avsc-sk HDF5 file, the fastest to read.",
    )
    parser.add_argument("src", metavar="SRC", help="a layout-A or layout-B root, a folder of <modality>.npy files "
                                                    "with clips.csv, an .npz file, or a native .h5 file")
    parser.add_argument("--meta", type=Path, default=None, metavar="CLIPS_CSV",
                        help="clip metadata table: clip_id, label[, group, city, split] (tab or comma); its labels, "
                             "groups, cities and splits are written into DST.h5, which then needs no --meta")
    parser.add_argument("--out", required=True, metavar="DST.h5", help="the native file to write")
    parser.add_argument("--max-frames", type=int, default=96, metavar="N",
                        help="frames kept per clip (default 96; 0 keeps every frame)")
    parser.add_argument("--force", action="store_true", help="replace DST.h5 if it exists")
    parser.set_defaults(func=run)
    return parser


def summary_line(result):
    """One line naming what :func:`avsc_sk.data.convert_features` wrote."""
    splits = ", ".join(f"{s} {n} clips" for s, n in result.splits.items())
    mods = []
    for mod_list in result.modalities.values():
        for name, n_frames, dim in mod_list:
            text = f"{name} {n_frames}x{dim}"
            if text not in mods:
                mods.append(text)
    synthetic = " (synthetic data)" if result.synthetic else ""
    return f"wrote {result.path}: {splits}; modalities {', '.join(mods)}{synthetic}"


def run(args):
    from ..data import convert_features

    max_frames = None if args.max_frames == 0 else args.max_frames
    result = convert_features(args.src, args.out, force=args.force, max_frames=max_frames, meta=args.meta)
    print(summary_line(result))
    return 0
