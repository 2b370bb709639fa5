"""avsc-sk demo: see the whole pipeline work on the built-in synthetic data."""

import time
from pathlib import Path

from .._io import check_output
from ._common import add_force, synthetic_banner


def add_parser(sub):
    p = sub.add_parser("demo", help="fit audio, video and early fusion on the built-in synthetic data and score them")
    p.add_argument("--model", default="logreg", help="the head (default: logreg)")
    p.add_argument("--fusions", default="audio,video,early", help="comma-separated modes (default: audio,video,early)")
    p.add_argument("--out", type=Path, help="also save each run under this directory")
    add_force(p)
    p.set_defaults(func=run)


def run(args):
    from .._demo import run_demo
    from ..runs import save_run

    t0 = time.perf_counter()
    if args.out is not None:
        check_output(args.out, force=args.force, what="demo output directory")
    print(synthetic_banner(True))
    print("fold1 train (8,646 clips) -> fold1 evaluate (3,645 clips), mean pooling + standard scaling + "
          f"{args.model}")
    table, runs = run_demo(tuple(f.strip() for f in args.fusions.split(",") if f.strip()), model=args.model)
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.out is not None:
        for fusion, (model, manifest) in runs.items():
            save_run(args.out / fusion, model, manifest, force=args.force)
        print(f"saved runs to {args.out}")
    print(f"demo finished in {time.perf_counter() - t0:.1f} s")
    return 0
