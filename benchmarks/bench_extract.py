"""Benchmark ``avsc-sk extract`` on SYNTHETIC clips the size of TAU's (not part of the test suite).

    python benchmarks/bench_extract.py [--quick] [--workdir DIR] --out extract.json

Synthesises, with soundfile and PyAV (no system ffmpeg), a 10-s 48 kHz 24-bit stereo wav
(noise shaped like a street scene, plus a few tones and a left-right delay) and a 10-s
1280x720 30 fps H.264 mp4 (a textured background, a moving bar and fresh sensor-like grain on
every frame, so the decoder does realistic work; its bitrate is reported), then measures
seconds per clip of the extractor exactly as a batch worker runs it (decode + descriptors,
one BLAS and one decoder thread). Figures per core are CPU seconds of this process; wall
seconds are reported too (they include whatever else the machine is doing).

Targets: audio at least 50x real time per core (a 10-s clip in under 0.2 s), video at least
10x real time per core at 720p. ``--quick`` repeats each measurement fewer times and uses a
4-s video. ``run_benchmark(quick, workdir)`` is what ``benchmarks/bench.py --extract`` calls.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

AUDIO_TARGET_X = 50.0
VIDEO_TARGET_X = 10.0


def make_wav(path, seconds=10.0, sr=48000, seed=0):
    """A 24-bit stereo wav: brown-ish noise, two tones, the right channel a delayed copy."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    noise = np.cumsum(rng.standard_normal(n)) * 0.002
    noise -= np.convolve(noise, np.ones(4801) / 4801, mode="same")  # remove the random walk's drift
    t = np.arange(n) / sr
    sig = noise + 0.05 * np.sin(2 * np.pi * 440 * t) + 0.02 * np.sin(2 * np.pi * 3150 * t)
    sig += 0.01 * rng.standard_normal(n)
    left, right = sig, np.roll(sig, 24) * 0.9
    sf.write(str(path), np.column_stack([left, right]).clip(-1, 1), sr, subtype="PCM_24")
    return path


def make_mp4(path, seconds=10.0, size=(1280, 720), fps=30, seed=0, grain=6, crf=20):
    """A 720p H.264 mp4: textured background, a moving bar, fresh grain (+-``grain``) on every frame."""
    import av

    rng = np.random.default_rng(seed)
    w, h = size
    bg = (rng.random((h // 16, w // 16, 3)) * 200 + 20).astype(np.uint8).repeat(16, 0).repeat(16, 1)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        # GoPro-like: high profile, CABAC, B-frames, a keyframe every half second.
        s.options = {"crf": str(crf), "preset": "veryfast", "g": "15"}
        for i in range(int(seconds * fps)):
            img = bg.astype(np.int16)
            x = (i * 12) % (w - 120)
            img[:, x:x + 120] = 240
            if grain:
                img += rng.integers(-grain, grain + 1, (h, w, 1), dtype=np.int16)
            frame = av.VideoFrame.from_ndarray(img.clip(0, 255).astype(np.uint8), format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _time(fn, reps):
    walls, cpus = [], []
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _decode_only(path):
    import av

    with av.open(str(path)) as c:
        st = c.streams.video[0]
        st.codec_context.thread_count = 1
        return sum(1 for _ in c.decode(st))


#: The two synthetic 720p videos: decoding cost grows with the bitrate, and the TAU files'
#: bitrate is not documented here, so both a moderate and a high (camera-like) one are timed.
VIDEO_VARIANTS = {
    "moderate": {"grain": 2, "crf": 23},
    "high": {"grain": 6, "crf": 20},
}


def run_benchmark(quick=False, workdir=None):
    """Synthesise the clips (reused from ``workdir``), measure, and return every figure as a dict."""
    from avsc_sk.extract import ClipJob, extract_clip, frame_count

    workdir = Path(workdir or tempfile.mkdtemp(prefix="avsc-bench-extract-"))
    workdir.mkdir(parents=True, exist_ok=True)
    audio_s, video_s = 10.0, (4.0 if quick else 10.0)
    reps_a, reps_v = (3, 1) if quick else (7, 3)
    hop = 1.0
    t0 = time.perf_counter()
    wav = workdir / "street_traffic-lyon-1-1.wav"
    if not wav.exists():
        make_wav(wav, audio_s)
    mp4s = {}
    for name, opts in VIDEO_VARIANTS.items():
        mp4s[name] = workdir / f"street_traffic-lyon-1-1_{name}_{int(video_s)}s.mp4"
        if not mp4s[name].exists():
            make_mp4(mp4s[name], video_s, **opts)
    synth_s = time.perf_counter() - t0

    def timer(job, n_frames):
        def run():
            _, feats, reason = extract_clip(job, n_frames, hop)
            assert reason is None, reason
        return run

    audio_job = ClipJob("street_traffic-lyon-1-1", "all", "street_traffic", "lyon", "lyon-1", audio=wav)
    timer(audio_job, frame_count(audio_s, hop))()  # warm-up: imports, filterbank, page cache
    a_wall, a_cpu = _time(timer(audio_job, frame_count(audio_s, hop)), reps_a)
    result = {
        "synthetic": True,
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(),
                    "loadavg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None},
        "quick": quick,
        "synth_s": round(synth_s, 2),
        "audio": {"clip_s": audio_s, "format": "48 kHz 24-bit stereo wav", "reps": reps_a,
                  "wall_s_per_clip": a_wall, "cpu_s_per_clip": a_cpu,
                  "x_real_time_per_core": audio_s / a_cpu, "x_real_time_wall": audio_s / a_wall,
                  "target_x": AUDIO_TARGET_X},
    }
    result["audio"]["verdict"] = "PASS" if result["audio"]["x_real_time_per_core"] >= AUDIO_TARGET_X else "MISS"
    for name, mp4 in mp4s.items():
        job = ClipJob("street_traffic-lyon-1-1", "all", "street_traffic", "lyon", "lyon-1", video=mp4)
        v_wall, v_cpu = _time(timer(job, frame_count(video_s, hop)), reps_v)
        d_wall, d_cpu = _time(lambda: _decode_only(mp4), reps_v)
        mbit = mp4.stat().st_size * 8 / 1e6 / video_s
        r = {"clip_s": video_s, "format": f"1280x720 30 fps H.264 mp4, {mbit:.1f} Mbit/s", "mbit_s": mbit,
             "reps": reps_v, "wall_s_per_clip": v_wall, "cpu_s_per_clip": v_cpu,
             "x_real_time_per_core": video_s / v_cpu, "x_real_time_wall": video_s / v_wall,
             "full_decode_cpu_s": d_cpu, "target_x": VIDEO_TARGET_X}
        r["verdict"] = "PASS" if r["x_real_time_per_core"] >= VIDEO_TARGET_X else "MISS"
        result[f"video_{name}"] = r
    result["table"] = table(result)
    return result


def table(result):
    """A markdown table of the figures (SYNTHETIC clips)."""
    lines = ["Extraction speed on SYNTHETIC clips (one core: one BLAS thread, one decoder thread)", "",
             "| modality | clip | s per clip (CPU) | s per clip (wall) | x real time per core | target | |",
             "|---|---|---|---|---|---|---|"]
    keys = ["audio"] + [k for k in result if k.startswith("video_")]
    for m in keys:
        r = result[m]
        lines.append(f"| {m.replace('_', ' ')} | {r['clip_s']:.0f} s, {r['format']} | {r['cpu_s_per_clip']:.3f} | "
                     f"{r['wall_s_per_clip']:.3f} | {r['x_real_time_per_core']:.0f}x | {r['target_x']:.0f}x | "
                     f"{r['verdict']} |")
    lines.append("")
    for m in keys[1:]:
        r = result[m]
        lines.append(f"{m.replace('_', ' ')}: decoding every frame alone takes {r['full_decode_cpu_s']:.3f} CPU s "
                     f"({r['clip_s'] / r['full_decode_cpu_s']:.0f}x real time); the extractor skips the "
                     "non-reference frames it does not sample.")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and a 4-s video")
    parser.add_argument("--workdir", default=None, help="where the synthetic clips are made (and reused)")
    parser.add_argument("--out", default="extract.json", help="JSON file with every figure")
    args = parser.parse_args(argv)
    result = run_benchmark(args.quick, args.workdir)
    print(result["table"])
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    verdicts = [v["verdict"] for k, v in result.items() if isinstance(v, dict) and "verdict" in v]
    return 0 if all(v == "PASS" for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
