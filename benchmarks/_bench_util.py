"""Small measurement helpers for benchmarks/bench.py (not part of the package or its tests)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

# Block size of the plain sequential read that stands for the disk's limit.
SEQ_BLOCK = 16 << 20


def proc_status():
    """``{"rss_mib": ..., "hwm_mib": ...}`` of this process from /proc/self/status (Linux)."""
    out = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out["rss_mib" if key == "VmRSS" else "hwm_mib"] = int(value.split()[0]) / 1024
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out = {"rss_mib": float("nan"), "hwm_mib": peak}
    return out


def reset_peak():
    """Reset this process's peak RSS (VmHWM) to its current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def drop_caches():
    """Flush dirty pages and drop the page cache (needs root); False when not permitted."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return True
    except OSError:
        return False


def sequential_read(paths, block=SEQ_BLOCK):
    """Read every byte of ``paths`` with plain large ``readinto`` calls; returns (bytes, seconds)."""
    buf = bytearray(block)
    view = memoryview(buf)
    total = 0
    t0 = time.perf_counter()
    for path in paths:
        with open(path, "rb", buffering=0) as fh:
            while True:
                n = fh.readinto(view)
                if not n:
                    break
                total += n
    return total, time.perf_counter() - t0


def warm(paths):
    """Pull files into the page cache (when caches cannot be dropped, both sides are measured warm)."""
    sequential_read(paths)


def files_under(path):
    """Every regular file under ``path`` (or ``path`` itself), sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file())


def run_child(script, task, *, timeout=None, env=None):
    """Run ``python script _child '<json task>'`` in a fresh process; returns its JSON result.

    A fresh process per measurement gives each fit its own peak RSS and no memory left
    over from the previous one. The child prints its result as the last stdout line.
    """
    cmd = [sys.executable, str(script), "_child", json.dumps(task)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=None if env is None else {**os.environ, **env})
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s", "wall_s": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}", "wall_s": wall}
    result = json.loads(lines[-1])
    result["wall_s"] = wall
    return result


def loadavg():
    """The 1-minute load average (other work on the machine skews timings)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None
