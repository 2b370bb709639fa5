"""Benchmark avsc-sk at the size of TAU fold1 on SYNTHETIC data (not part of the test suite).

    python benchmarks/bench.py [--quick] [--extract] --out bench.json

Generates synthetic fold1-sized features (8,646 training + 3,645 evaluation clips, 96
frames, 512-d audio and video; ``make_tau_like``) in the native layout and in layout A
under ``--workdir`` (reused by later runs), then measures:

* reading (``read_features``) and pooling (``FramePooler``, mean) of both layouts against
  a plain sequential read of the same files in the same run, the disk's limit; the page
  cache is dropped before every measurement when the process may do so (root), else
  every side is measured warm;
* fit time of every fusion mode in ``avsc_sk.fusion.FUSIONS`` with the default head, each
  in a fresh process, with its peak RSS (including the loaded features) and the RSS
  increase the fit itself causes (peak after the fit minus RSS before it);
* prediction throughput (``predict_proba`` on the evaluation clips, pooling included);
* how early-fusion fit time grows with the number of clips (1k, 2k, 4k, 8.6k clips) and
  in segment mode (features cut to 90 frames, 9-frame segments: 10 segments per clip,
  86,460 segments for 8,646 clips; 96 frames have no divisor giving 10 segments);
* with ``--extract``, the extraction speed measured by ``benchmarks/bench_extract.py``.

It prints a markdown table with each target and PASS/MISS and writes every figure to
``--out`` as JSON. ``--quick`` runs a 10% version (1,229 clips, frames generated at 12 and
repeated to 96, which keeps the byte counts and shapes) in under two minutes; its fit
times and RSS are not judged against the full-size targets.
"""

import argparse
import cProfile
import gc
import importlib.util
import io
import json
import os
import platform
import pstats
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench_util import (  # noqa: E402
    drop_caches, files_under, loadavg, proc_status, reset_peak, run_child, sequential_read, warm,
)

FULL_CLIPS = 12291
QUICK_FRACTION = 0.1
N_FRAMES = 96
SEGMENT_MAX_FRAMES = 90
SEGMENT_FRAMES = 9
SCALE_SIZES = (1000, 2000, 4000, 8646)

#: Targets at full fold1 size on 2 cores.
FIT_TARGETS = {"early": 15.0, "weighted": 45.0, "late": 90.0, "intermediate": 60.0}
PREDICT_TARGET = 20000.0  # clips/s, linear heads
LINEAR_HEAD_MODES = ("audio", "video", "early", "late", "weighted")
RSS_TARGET_MIB = 2048.0  # judged on the RSS the fit adds (the loaded training features alone are 3.2 GiB)
NATIVE_FRACTION_TARGET = 0.5
LAYOUT_A_FACTOR_TARGET = 3.0


# --------------------------------------------------------------------------- child tasks

def _child_generate(task):
    """Write synthetic fold1 features in native layout and layout A under ``task['dir']``."""
    from avsc_sk.data import FeatureSet, write_features
    from avsc_sk.datasets._synthetic import GENERATOR_VERSION, make_tau_like

    out = Path(task["dir"])
    stamp = out / "stamp.json"
    want = {k: task[k] for k in ("n_clips", "base_frames", "n_frames", "seed")}
    want["generator_version"] = GENERATOR_VERSION
    if stamp.is_file() and not task.get("regenerate") and json.loads(stamp.read_text()) == want:
        return {"reused": True, **want}
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sets = make_tau_like(n_clips=task["n_clips"], n_frames=task["base_frames"], seed=task["seed"])
    gen_s = time.perf_counter() - t0
    rep = task["n_frames"] // task["base_frames"]
    if rep > 1:
        # Repeat each generated frame: same class structure after mean pooling, full-size bytes.
        for split, fs in sets.items():
            blocks = [np.repeat(fs.frames(m), rep, axis=1).reshape(fs.n_clips, -1) for m in fs.modality_names]
            mods = tuple((m, task["n_frames"], d) for m, _, d in fs.modalities)
            sets[split] = FeatureSet(np.ascontiguousarray(np.hstack(blocks)), mods, fs.clip_ids, fs.y, fs.city,
                                     fs.location, split=split, source=fs.source, synthetic=True)
            del blocks
    t0 = time.perf_counter()
    write_features(out / "native" / "features.h5", sets, layout="native", force=True)
    native_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_features(out / "A", sets, layout="A", force=True)
    a_s = time.perf_counter() - t0
    stamp.write_text(json.dumps(want))
    return {"reused": False, "generate_s": gen_s, "write_native_s": native_s, "write_A_s": a_s,
            "clips": {s: int(fs.n_clips) for s, fs in sets.items()}, **want}


def _prepare_cache(cache, paths):
    if cache == "cold":
        if not drop_caches():
            raise RuntimeError("cannot drop the page cache; run with --cache warm")
    else:
        warm(paths)


def _child_seq(task):
    paths = [Path(p) for p in task["paths"]]
    best = None
    for _ in range(task["repeats"]):
        _prepare_cache(task["cache"], paths)
        nbytes, secs = sequential_read(paths)
        best = secs if best is None else min(best, secs)
    return {"bytes": nbytes, "seconds": best, "gb_s": nbytes / best / 1e9}


def _child_read(task):
    """read_features of train+val and test, then mean-pool every modality; best of ``repeats``."""
    from avsc_sk._pooling import FramePooler
    from avsc_sk.data import read_features

    paths = files_under(task["path"])
    best = None
    for _ in range(task["repeats"]):
        _prepare_cache(task["cache"], paths)
        read_s = pool_s = 0.0
        nbytes = n_clips = 0
        for split in ("train+val", "test"):
            t0 = time.perf_counter()
            fs = read_features(task["path"], split, max_frames=N_FRAMES)
            read_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            for name, n_frames, _ in fs.modalities:
                FramePooler(n_frames=n_frames).fit_transform(fs.X[:, fs.columns(name)])
            pool_s += time.perf_counter() - t0
            nbytes += fs.X.nbytes
            n_clips += fs.n_clips
            del fs
            gc.collect()
        if best is None or read_s + pool_s < best["read_s"] + best["pool_s"]:
            best = {"read_s": read_s, "pool_s": pool_s}
    file_bytes = sum(p.stat().st_size for p in paths)
    total = best["read_s"] + best["pool_s"]
    return {**best, "bytes": nbytes, "file_bytes": file_bytes, "n_clips": n_clips,
            "read_gb_s": nbytes / best["read_s"] / 1e9, "read_pool_gb_s": nbytes / total / 1e9,
            "read_pool_clips_s": n_clips / total}


def _n_iters(est, depth=0, seen=None):
    """Iteration counts of fitted sub-estimators (``n_iter_``/``n_epochs_``), for diagnosis."""
    from sklearn.base import BaseEstimator

    seen = set() if seen is None else seen
    if id(est) in seen or depth > 8:
        return []
    seen.add(id(est))
    found = []
    for attr in ("n_iter_", "n_epochs_"):
        v = getattr(est, attr, None)
        if v is not None:
            found.append(f"{type(est).__name__}.{attr}={np.max(v)}")
    children = []
    for v in vars(est).values() if hasattr(est, "__dict__") else []:
        if isinstance(v, BaseEstimator):
            children.append(v)
        elif isinstance(v, (list, tuple)):
            for item in v:
                if isinstance(item, BaseEstimator):
                    children.append(item)
                elif isinstance(item, tuple):
                    children.extend(x for x in item if isinstance(x, BaseEstimator))
    for c in children:
        found.extend(_n_iters(c, depth + 1, seen))
    return found


def _child_fit(task):
    """Read train+val, fit one configured estimator (own process: own peak RSS), optionally predict."""
    from sklearn.metrics import accuracy_score, log_loss

    from avsc_sk.data import read_features
    from avsc_sk.runs import build_estimator, fit_estimator

    load0 = loadavg()
    t0 = time.perf_counter()
    train = read_features(task["path"], "train+val", max_frames=task["max_frames"])
    read_s = time.perf_counter() - t0
    n = task.get("n_clips")
    if n and n < train.n_clips:
        idx = np.sort(np.random.default_rng(0).permutation(train.n_clips)[:n])
        train = train.subset(idx)
        gc.collect()
    config = {"fusion": task["fusion"], "model": task.get("model", "logreg"), "seed": 0,
              "segment_frames": task.get("segment_frames", 0), "params": {}}
    before = proc_status()
    peak_reset = reset_peak()
    est = build_estimator(config, train.modalities)
    prof = cProfile.Profile() if task.get("profile") else None
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    fit_estimator(est, train)
    if prof:
        prof.disable()
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    after = proc_status()
    out = {
        "fusion": task["fusion"], "n_clips": int(train.n_clips), "read_s": read_s, "fit_s": fit_s, "fit_cpu_s": fit_cpu_s,
        "rss_loaded_mib": before["rss_mib"], "peak_rss_mib": after["hwm_mib"],
        "fit_rss_increase_mib": after["hwm_mib"] - before["rss_mib"], "peak_reset": peak_reset,
        "features_mib": train.X.nbytes / 2**20, "iterations": _n_iters(est), "load_before": load0,
        "load_after": loadavg(),
    }
    if config["segment_frames"]:
        out["n_segments"] = int(train.n_clips * (train.modalities[0][1] // config["segment_frames"]))
    if prof:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(14)
        out["profile_tottime"] = s.getvalue()
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(20)
        out["profile_cumulative"] = s.getvalue()
    if task.get("predict"):
        del train
        gc.collect()
        test = read_features(task["path"], "test", max_frames=task["max_frames"])
        times, cpu = [], []
        for _ in range(task.get("repeats", 3)):
            t0, c0 = time.perf_counter(), time.process_time()
            proba = est.predict_proba(test.X)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        med = float(np.median(times))
        pred = est.classes_[proba.argmax(axis=1)]
        out.update({
            "predict_clips": int(test.n_clips), "predict_s_median": med, "predict_s_all": times,
            "predict_clips_s": test.n_clips / med,
            "predict_cpu_s_median": float(np.median(cpu)),
            "synthetic_accuracy": float(accuracy_score(test.y, pred)),
            "synthetic_log_loss": float(log_loss(test.y, np.clip(proba, 1e-15, 1), labels=est.classes_)),
            "peak_rss_total_mib": proc_status()["hwm_mib"],
        })
    return out


_CHILD_TASKS = {"generate": _child_generate, "seq": _child_seq, "read": _child_read, "fit": _child_fit}


def child_main(arg):
    task = json.loads(arg)
    result = _CHILD_TASKS[task["task"]](task)
    print(json.dumps(result), flush=True)
    return 0


# --------------------------------------------------------------------------- driver

def _status(ok):
    if ok is None:
        return "-"
    return "PASS" if ok else "MISS"


def _fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)


def _load_extract_module():
    path = HERE / "bench_extract.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("bench_extract", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_extract(quick, workdir):
    """Run benchmarks/bench_extract.py (written separately) and return its figures."""
    mod = _load_extract_module()
    if mod is None:
        return {"error": "benchmarks/bench_extract.py not found"}
    for name in ("run_benchmark", "run", "benchmark", "measure"):
        fn = getattr(mod, name, None)
        if callable(fn):
            import inspect

            params = inspect.signature(fn).parameters
            kwargs = {}
            if "quick" in params:
                kwargs["quick"] = quick
            if "workdir" in params:
                kwargs["workdir"] = str(Path(workdir) / "extract")
            return fn(**kwargs)
    return {"error": f"benchmarks/bench_extract.py has none of run_benchmark/run/benchmark/measure; "
                     f"found {[n for n in dir(mod) if not n.startswith('_')]}"}


def run(args):
    script = Path(__file__).resolve()
    quick = args.quick
    n_clips = int(round(FULL_CLIPS * QUICK_FRACTION)) if quick else None
    base_frames = args.base_frames or (12 if quick else N_FRAMES)
    datadir = Path(args.workdir) / ("quick" if quick else "full")
    native = datadir / "native" / "features.h5"
    layout_a = datadir / "A"
    sections = set(args.sections.split(",")) if args.sections else {"read", "fit", "scale"}
    if args.extract:
        sections.add("extract")
    cache = args.cache
    if cache == "cold" and not drop_caches():
        print("note: cannot drop the page cache (not root?); measuring warm-cache for reader and baseline alike",
              file=sys.stderr)
        cache = "warm"
    result = {
        "synthetic": True, "quick": quick, "cache": cache,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_at_start": loadavg()},
        "targets": {"fit_s": FIT_TARGETS, "predict_clips_s": PREDICT_TARGET, "fit_rss_increase_mib": RSS_TARGET_MIB,
                    "native_fraction_of_sequential": NATIVE_FRACTION_TARGET,
                    "layout_A_vs_native_factor": LAYOUT_A_FACTOR_TARGET},
    }
    t_start = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - t_start:7.1f} s] {msg}", file=sys.stderr, flush=True)

    timeout = args.timeout
    env = None
    if args.blas_threads > 0:
        # OpenBLAS threads busy-wait; on a loaded machine two of them can make a logistic
        # regression 20x slower than one, so a fixed count makes runs comparable.
        env = {k: str(args.blas_threads) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    result["machine"]["blas_threads"] = args.blas_threads if args.blas_threads > 0 else "library default"
    gen = run_child(script, {"task": "generate", "dir": str(datadir), "n_clips": n_clips,
                             "base_frames": base_frames, "n_frames": N_FRAMES, "seed": 0,
                             "regenerate": args.regenerate}, timeout=timeout)
    result["data"] = {**gen, "native": str(native), "layout_A": str(layout_a)}
    if "error" in gen:
        log(f"generation failed: {gen['error']}")
        return result
    log(f"data ready ({'reused' if gen.get('reused') else 'generated'}) in {gen['wall_s']:.1f} s")

    if "read" in sections:
        reps = 3 if quick else 2
        reads = {}
        for name, path in (("native", native), ("A", layout_a)):
            reads[name] = {
                "sequential": run_child(script, {"task": "seq", "paths": [str(p) for p in files_under(path)],
                                                 "cache": cache, "repeats": reps}, timeout=timeout, env=env),
                "reader": run_child(script, {"task": "read", "path": str(path), "cache": cache, "repeats": reps},
                                    timeout=timeout, env=env),
            }
            log(f"read {name}: {reads[name]}")
        result["read"] = reads

    fit_modes = list(args.modes.split(",")) if args.modes else None
    if "fit" in sections:
        from avsc_sk.fusion import FUSIONS

        fits = {}
        for mode in fit_modes or FUSIONS:
            fits[mode] = run_child(script, {"task": "fit", "fusion": mode, "path": str(native), "max_frames": N_FRAMES,
                                            "predict": True, "repeats": 3,
                                            "profile": mode in (args.profile or "").split(",")}, timeout=timeout, env=env)
            log(f"fit {mode}: " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                           for k, v in fits[mode].items() if not k.startswith("profile")))
        result["fit"] = fits

    if "scale" in sections:
        scale = []
        sizes = [int(round(s * QUICK_FRACTION)) for s in SCALE_SIZES] if quick else list(SCALE_SIZES)
        for n in sizes:
            r = run_child(script, {"task": "fit", "fusion": "early", "path": str(native), "max_frames": N_FRAMES,
                                   "n_clips": n, "predict": False}, timeout=timeout, env=env)
            scale.append({"mode": "clips", **r})
            log(f"scale early n={n}: fit {r.get('fit_s')}")
        r = run_child(script, {"task": "fit", "fusion": "early", "path": str(native),
                               "max_frames": SEGMENT_MAX_FRAMES, "segment_frames": SEGMENT_FRAMES,
                               "predict": False, "profile": "segment" in (args.profile or "").split(",")},
                      timeout=timeout, env=env)
        scale.append({"mode": "segments", **r})
        log(f"scale segment mode: fit {r.get('fit_s')}")
        result["scale"] = scale

    if "extract" in sections:
        t0 = time.perf_counter()
        try:
            result["extract"] = run_extract(quick, args.workdir)
        except Exception as exc:  # the extraction benchmark has its own dependencies (ffmpeg, av)
            result["extract"] = {"error": f"{type(exc).__name__}: {exc}"}
        log(f"extract: {time.perf_counter() - t0:.1f} s")

    result["total_s"] = time.perf_counter() - t_start
    result["machine"]["load_at_end"] = loadavg()
    return result


def judge(result):
    """Add PASS/MISS verdicts; fit time and RSS targets are judged only at full size."""
    full = not result["quick"]
    verdicts = {}
    reads = result.get("read", {})
    nat, a = reads.get("native", {}), reads.get("A", {})
    if "reader" in nat and "sequential" in nat and "error" not in nat["reader"] and "error" not in nat["sequential"]:
        frac = nat["reader"]["read_pool_gb_s"] / nat["sequential"]["gb_s"]
        nat["fraction_of_sequential"] = frac
        nat["read_only_fraction_of_sequential"] = nat["reader"]["read_gb_s"] / nat["sequential"]["gb_s"]
        verdicts["native read+pool >= 50% of sequential"] = frac >= NATIVE_FRACTION_TARGET
        if "reader" in a and "error" not in a["reader"]:
            factor = (a["reader"]["read_s"] + a["reader"]["pool_s"]) / (nat["reader"]["read_s"] + nat["reader"]["pool_s"])
            a["factor_vs_native"] = factor
            verdicts["layout A read+pool within 3x of native"] = factor <= LAYOUT_A_FACTOR_TARGET
    for mode, r in result.get("fit", {}).items():
        if "error" in r:
            verdicts[f"{mode}: ran"] = False
            continue
        if full and mode in FIT_TARGETS:
            verdicts[f"{mode}: fit <= {FIT_TARGETS[mode]:g} s"] = r["fit_s"] <= FIT_TARGETS[mode]
        if full:
            verdicts[f"{mode}: fit RSS increase <= 2 GiB"] = r["fit_rss_increase_mib"] <= RSS_TARGET_MIB
        if mode in LINEAR_HEAD_MODES and "predict_clips_s" in r:
            verdicts[f"{mode}: predict >= 20,000 clips/s"] = r["predict_clips_s"] >= PREDICT_TARGET
    for r in result.get("scale", []):
        if full and "error" not in r:
            verdicts[f"scale {r['mode']} n={r.get('n_segments', r['n_clips'])}: fit RSS increase <= 2 GiB"] = \
                r["fit_rss_increase_mib"] <= RSS_TARGET_MIB
    ext = result.get("extract")
    if isinstance(ext, dict):
        for key, r in ext.items():
            if isinstance(r, dict) and r.get("verdict") in ("PASS", "MISS"):
                verdicts[f"extract {key.replace('_', ' ')} >= {r['target_x']:g}x real time per core"] = \
                    r["verdict"] == "PASS"
    result["verdicts"] = {k: _status(v) for k, v in verdicts.items()}
    return result


def table(result):
    """The markdown report printed at the end."""
    full = not result["quick"]
    lines = [f"## avsc-sk benchmark on SYNTHETIC data ({'full fold1 size' if full else 'quick: 10% of clips'}, "
             f"{result['machine']['cpus']} CPUs, BLAS threads {result['machine'].get('blas_threads')}, "
             f"page cache {result['cache']}, "
             f"load {result['machine']['load_at_start']} -> {result['machine'].get('load_at_end')})", ""]
    data = result.get("data", {})
    if "clips" in data:
        lines += [f"Data: {data['clips']} clips x {N_FRAMES} frames x 512-d x 2 modalities; generated in "
                  f"{data['generate_s']:.0f} s, written native {data['write_native_s']:.0f} s, A {data['write_A_s']:.0f} s.",
                  ""]
    reads = result.get("read")
    if reads:
        lines += ["### Reading and pooling (train+val and test, mean pooling)", "",
                  "| layout | sequential read GB/s | read s | pool s | read GB/s | read+pool GB/s | "
                  "read+pool clips/s | vs sequential | target | status |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in reads.items():
            rd, sq = r.get("reader", {}), r.get("sequential", {})
            if "error" in rd or "error" in sq:
                lines.append(f"| {name} | error: {rd.get('error') or sq.get('error')} |||||||||")
                continue
            frac = rd["read_pool_gb_s"] / sq["gb_s"]
            if name == "native":
                target, key = ">= 50% of sequential", "native read+pool >= 50% of sequential"
            else:
                target = f"<= 3x native time (is {r.get('factor_vs_native', float('nan')):.2f}x)"
                key = "layout A read+pool within 3x of native"
            lines.append(f"| {name} | {sq['gb_s']:.2f} | {rd['read_s']:.2f} | {rd['pool_s']:.2f} | "
                         f"{rd['read_gb_s']:.2f} | {rd['read_pool_gb_s']:.2f} | {rd['read_pool_clips_s']:.0f} | "
                         f"{frac:.0%} | {target} | {result['verdicts'].get(key, '-')} |")
        lines.append("")
    fits = result.get("fit")
    if fits:
        lines += ["### Fit (train+val) and prediction (test), default head logreg", "",
                  "| mode | fit s | fit CPU s | target | status | peak RSS MiB (incl. features) | fit RSS increase MiB | "
                  "status | predict clips/s | clips per CPU s | status | synthetic accuracy |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        v = result["verdicts"]
        for mode, r in fits.items():
            if "error" in r:
                lines.append(f"| {mode} | error: {r['error'][:120]} |||||||||||")
                continue
            t = FIT_TARGETS.get(mode)
            lines.append(
                f"| {mode} | {r['fit_s']:.2f} | {r.get('fit_cpu_s', float('nan')):.2f} | {'<= %g s' % t if t else '-'} | "
                f"{v.get(f'{mode}: fit <= {t:g} s', '-') if t else '-'} | {r['peak_rss_mib']:.0f} | "
                f"{r['fit_rss_increase_mib']:.0f} | {v.get(f'{mode}: fit RSS increase <= 2 GiB', '-')} | "
                f"{_fmt(r.get('predict_clips_s'), '.0f')} | "
                f"{_fmt(r['predict_clips'] / r['predict_cpu_s_median'] if r.get('predict_cpu_s_median') else None, '.0f')} | "
                f"{v.get(f'{mode}: predict >= 20,000 clips/s', '-')} | "
                f"{_fmt(r.get('synthetic_accuracy'), '.3f')} |")
        lines.append("")
    scale = result.get("scale")
    if scale:
        lines += ["### Fit time against training size (early fusion, logreg)", "",
                  "| samples | fit s | fit CPU s | s per 1k samples | fit RSS increase MiB | head iterations |",
                  "|---|---|---|---|---|---|"]
        for r in scale:
            if "error" in r:
                lines.append(f"| {r['mode']} | error: {r['error'][:120]} |||||")
                continue
            n = r.get("n_segments", r["n_clips"])
            label = f"{n:,} segments ({r['n_clips']:,} clips x {n // r['n_clips']}, {SEGMENT_FRAMES}-frame segments of " \
                    f"{SEGMENT_MAX_FRAMES} frames)" if r["mode"] == "segments" else f"{n:,} clips"
            lines.append(f"| {label} | {r['fit_s']:.2f} | {r.get('fit_cpu_s', float('nan')):.2f} | {r['fit_s'] / n * 1000:.3f} | {r['fit_rss_increase_mib']:.0f} | "
                         f"{'; '.join(r.get('iterations', []))[:80]} |")
        lines.append("")
    ext = result.get("extract")
    if ext is not None:
        lines += ["### Extraction (benchmarks/bench_extract.py)", ""]
        if isinstance(ext, dict) and "table" in ext:
            lines.append(str(ext["table"]))
        else:
            lines.append("```\n" + json.dumps(ext, indent=1, default=str)[:3000] + "\n```")
        lines.append("")
    missed = [k for k, s in result.get("verdicts", {}).items() if s == "MISS"]
    lines.append(f"Targets missed: {', '.join(missed) if missed else 'none'}. Total {result.get('total_s', 0):.0f} s.")
    if result["quick"]:
        lines.append("Quick run: fit time and RSS targets apply to the full size and are not judged here.")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        return child_main(argv[1])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10%% of the clips; under two minutes")
    parser.add_argument("--out", default="bench.json", help="JSON file with every figure (default bench.json)")
    parser.add_argument("--workdir", default=os.environ.get("AVSC_BENCH_DIR", "/tmp/avsc-bench"),
                        help="where the generated features live (kept and reused; ~9.6 GB at full size)")
    parser.add_argument("--extract", action="store_true", help="also run benchmarks/bench_extract.py")
    parser.add_argument("--sections", help="comma-separated subset of read,fit,scale,extract")
    parser.add_argument("--modes", help="comma-separated fusion modes to fit (default all of FUSIONS)")
    parser.add_argument("--profile", help="comma-separated fusion modes (or 'segment') to run under cProfile")
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold",
                        help="drop the page cache before each read measurement (default, needs root) or read warm")
    parser.add_argument("--base-frames", type=int, help="frames generated per clip before repeating to 96")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the data even if cached")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS/OpenMP threads in the measurement processes (default 1; 0 keeps the libraries' "
                             "own choice, which on a busy machine can make logistic regression 20x slower)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per measurement process")
    parser.add_argument("--report", metavar="JSON", help="print the table of a saved result and exit")
    args = parser.parse_args(argv)
    if args.report:
        print(table(judge(json.loads(Path(args.report).read_text()))))
        return 0
    result = judge(run(args))
    text = table(result)
    print(text)
    result["table"] = text
    from avsc_sk._io import atomic_write_text

    atomic_write_text(args.out, json.dumps(result, indent=2, default=str) + "\n", force=True)
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
