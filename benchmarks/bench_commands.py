"""Whole-command figures: what a user waits for, beside hand-written peers, in the same run.

    python benchmarks/bench_commands.py --features FULL.h5 [--rounds 3] [--out commands.json]

Every measurement is a fresh child process (``python -m avsc_sk ...`` or a peer script from
this folder); wall time, CPU time (user + system) and peak RSS come from the kernel's
accounting of that child (``os.wait4``), so imports, reading, fitting, saving and scoring
are all counted. avsc-sk and its peer run alternately, ``--rounds`` times, and the median
is reported with the ratio avsc-sk / peer. Make the features first, e.g.
``avsc-sk synth --layout native --out /tmp/full.h5`` (full fold1 size, SYNTHETIC, 4.8 GB).

The avsc-sk fit pins the head's C to the peer's (``--C``), so the two fit the same model;
a fit that chooses C by inner cross-validation is timed separately (``fit early auto``).
``fit auto auto`` (and `` n2``, two processes each side) times ``--fusion auto --model auto``
beside ``peer_auto.py``, one GridSearchCV over modes and heads; the issue's figure is on a
1,000-clip set, e.g. ``avsc-sk synth --layout native --clips 1400 --out /tmp/s1400``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable


def measure(argv, cwd=None):
    """Run ``argv`` to completion; return wall s, CPU s and peak RSS MiB of that process tree's leader."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{err[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024,
            "stdout": out.strip().splitlines()[-3:] if "auto" not in argv else out.strip().splitlines()}


def tasks(features, work, C):
    avsc = [PY, "-m", "avsc_sk"]
    feats = ["--features", str(features)]
    pin = ["--set", f"params.head__C={C}"]
    run = work / "run-early"
    return [
        ("fit early", [*avsc, "fit", "--fusion", "early", *feats, "--out", str(run), "--force", *pin],
         [PY, str(HERE / "peer_fit.py"), str(features), str(work / "peer.skops"), "--C", str(C)]),
        ("predict", [*avsc, "predict", str(run), *feats, "--split", "test", "--out", str(work / "pred.csv"),
                     "--force"],
         [PY, str(HERE / "peer_predict.py"), str(features), str(work / "peer.skops"), str(work / "peer.csv")]),
        ("fit early auto", [*avsc, "fit", "--fusion", "early", *feats, "--out", str(work / "run-auto"), "--force"],
         None),
        *[(f"fit {mode}", [*avsc, "fit", "--fusion", mode, *feats, "--out", str(work / f"run-{mode}"), "--force"],
           None) for mode in ("late", "weighted", "intermediate")],
        ("fit auto", [*avsc, "fit", "--fusion", "auto", *feats, "--out", str(work / "run-fusion-auto"), "--force"],
         None),
        *[(f"fit auto auto{tag}", [*avsc, "fit", "--fusion", "auto", "--model", "auto", *feats, "--out",
                                   str(work / "run-auto-auto"), "--force", "--n-jobs", jobs],
           [PY, str(HERE / "peer_auto.py"), str(features), "--n-jobs", jobs]) for tag, jobs in (("", "1"),
                                                                                                 (" n2", "2"))],
        ("report", [*avsc, "report", str(run), *feats, "--out", str(work / "report"), "--force"], None),
        ("compare", [*avsc, "compare", *feats, "--out", str(work / "compare"), "--force"], None),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", required=True, help="a native feature file (avsc-sk synth --layout native)")
    parser.add_argument("--work", default="/tmp/avsc-bench-commands", help="folder for runs and outputs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--C", type=float, default=0.01, help="the fixed C of both early-fusion fits")
    parser.add_argument("--only", help="comma-separated task names (default all)")
    parser.add_argument("--out", help="write every figure as JSON")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    only = None if not args.only else {s.strip() for s in args.only.split(",")}
    results = {}
    for name, ours, peer in tasks(Path(args.features), work, args.C):
        if only and name not in only:
            continue
        rows = {"avsc-sk": [], "peer": []}
        for _ in range(args.rounds):  # alternate, so drift in machine load hits both sides alike
            rows["avsc-sk"].append(measure(ours))
            if peer:
                rows["peer"].append(measure(peer))
        results[name] = {side: {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "peak_rss_mib")}
                         | {"runs": runs} for side, runs in rows.items() if runs}
        print(_row(name, results[name]), flush=True)
    print()
    print(table(results))
    if args.out:
        Path(args.out).write_text(json.dumps({"features": str(args.features), "rounds": args.rounds, "C": args.C,
                                              "results": results}, indent=1))


def _row(name, res):
    ours = res["avsc-sk"]
    text = f"{name}: {ours['wall_s']:.2f} s wall, {ours['cpu_s']:.2f} s CPU, {ours['peak_rss_mib']:.0f} MiB peak"
    if "peer" in res:
        peer = res["peer"]
        text += (f" | peer {peer['wall_s']:.2f} s, {peer['peak_rss_mib']:.0f} MiB"
                 f" | ratio wall {ours['wall_s'] / peer['wall_s']:.2f}x")
    return text


def table(results):
    lines = ["| command | wall s | CPU s | peak RSS MiB | peer wall s | peer peak RSS MiB | wall ratio |",
             "|---|---|---|---|---|---|---|"]
    for name, res in results.items():
        ours, peer = res["avsc-sk"], res.get("peer")
        cells = [name, f"{ours['wall_s']:.2f}", f"{ours['cpu_s']:.2f}", f"{ours['peak_rss_mib']:.0f}"]
        cells += ([f"{peer['wall_s']:.2f}", f"{peer['peak_rss_mib']:.0f}", f"{ours['wall_s'] / peer['wall_s']:.2f}x"]
                  if peer else ["-", "-", "-"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
