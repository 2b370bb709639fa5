"""avsc-sk extract: classical descriptors from raw wav/mp4 files, the chunked writer, resume, the CLI."""

import importlib.util
import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from avsc_sk.errors import DataError, MissingDependencyError, OutputExistsError
from avsc_sk.extract import (
    AUDIO_SR,
    FeatureWriter,
    audio_descriptors,
    audio_feature_names,
    extract_audio,
    extract_features,
    extract_video,
    frame_count,
    load_audio,
    mel_band_edges,
    plan_clips,
    split_of_list,
    video_feature_names,
)

sf = pytest.importorskip("soundfile")
av = pytest.importorskip("av")

REAL_AUDIO = Path(__file__).parents[1].parent / "shared" / "tau2021" / "audio"
A = {n: i for i, n in enumerate(audio_feature_names())}
V = {n: i for i, n in enumerate(video_feature_names())}


@pytest.fixture(scope="module")
def real_audio_dir():
    if not REAL_AUDIO.is_dir() or not list(REAL_AUDIO.glob("*.wav")):
        pytest.skip(f"the 14 real TAU clips are not at {REAL_AUDIO} (the shared test data of the project)")
    return REAL_AUDIO


def _tone(freq, seconds=1.0, sr=AUDIO_SR, amp=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _write_mp4(path, frames, fps=10):
    """A tiny H.264 mp4 (frames: list of HxWx3 uint8) written with PyAV."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"crf": "10", "preset": "ultrafast"}
        for img in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _bar_video(path, moving, seconds=2, fps=10, size=(64, 36)):
    w, h = size
    frames = []
    for i in range(seconds * fps):
        img = np.zeros((h, w, 3), np.uint8)
        x = (4 * i) % (w - 8) if moving else w // 2
        img[:, x:x + 8] = 255
        frames.append(img)
    return _write_mp4(path, frames, fps)


# ---------------------------------------------------------------- real clips


def test_real_clips_shapes_finite(real_audio_dir):
    files = sorted(real_audio_dir.glob("*.wav"))
    assert len(files) == 14
    lengths = set()
    for f in files:
        lengths.add(sf.info(str(f)).frames)
        d = extract_audio(f, frame_count(10.0, 1.0), 1.0)
        assert d.shape == (10, len(audio_feature_names())) == (10, 170)
        assert d.dtype == np.float32
        assert np.isfinite(d).all(), f.name
        # Real scenes are neither silent nor saturated, and stereo recordings are correlated.
        assert -90 < d[:, A["rms_db_mean"]].mean() < 0
        assert (np.abs(d[:, A["lr_correlation"]]) <= 1).all()
        # A 1-s frame of a real scene differs from the next one.
        assert not np.allclose(d[0], d[1])
    assert {480000, 480001} <= lengths


def test_real_clip_480001_same_frames_as_480000(real_audio_dir):
    odd = [f for f in sorted(real_audio_dir.glob("*.wav")) if sf.info(str(f)).frames == 480001]
    assert odd, "the shared data should hold a 480,001-sample clip"
    x = load_audio(odd[0])
    assert x.shape == (480001, 2)
    full = audio_descriptors(x, 10, 1.0)
    cut = audio_descriptors(x[:480000], 10, 1.0)
    assert full.shape == cut.shape == (10, 170)
    # The extra sample lies beyond every analysis window of frame 9.
    np.testing.assert_array_equal(full, cut)


def test_real_clips_deterministic(real_audio_dir):
    f = sorted(real_audio_dir.glob("*.wav"))[0]
    a, b = extract_audio(f, 10, 1.0), extract_audio(f, 10, 1.0)
    np.testing.assert_array_equal(a, b)
    fine = extract_audio(f, frame_count(10.0, 0.1), 0.1)
    assert fine.shape == (100, 170) and np.isfinite(fine).all()


def test_batch_on_real_clips(real_audio_dir, tmp_path):
    out = tmp_path / "real.h5"
    summary = extract_features(out, real_audio_dir, chunk_size=4)
    assert summary.ok and summary.n_written == 14
    with h5py.File(out) as fh:
        splits = {s: fh[s]["clip_id"].asstr()[()].tolist() for s in fh}
        assert sum(len(v) for v in splits.values()) == 14
        # Every real clip is a fold1 clip: it lands in its fold1 split, never in "all".
        assert set(splits) <= {"train", "val", "test"}
        assert "bus-prague-1102-40498" in splits["train"]
        g = fh["train"]
        assert g["features/audio"].shape == (len(splits["train"]), 1700)
        assert g["features/audio"].attrs["n_frames"] == 10 and g["features/audio"].attrs["dim"] == 170
        i = splits["train"].index("bus-prague-1102-40498")
        assert g["scene_label"].asstr()[i] == "bus"
        assert g["city"].asstr()[i] == "prague" and g["location"].asstr()[i] == "prague-1102"
        np.testing.assert_array_equal(
            g["features/audio"][i], extract_audio(real_audio_dir / "bus-prague-1102-40498.wav", 10).ravel()
        )


# ---------------------------------------------------------------- audio on known signals


def test_silence():
    d = audio_descriptors(np.zeros((AUDIO_SR, 2), np.float32), 1, 1.0)[0]
    assert np.isfinite(d).all()
    np.testing.assert_allclose(d[A["logmel_mean_00"]:A["logmel_mean_63"] + 1], np.log(1e-10), rtol=1e-6)
    assert np.all(d[A["logmel_std_00"]:A["logmel_std_63"] + 1] == 0)
    for name in ("centroid_khz_mean", "bandwidth_khz_mean", "rolloff_khz_mean", "zcr_mean", "lr_correlation",
                 "contrast_3", "side_minus_mid_db", "left_minus_right_db"):
        assert d[A[name]] == 0, name
    assert d[A["flatness_mean"]] == pytest.approx(1.0)


def test_1khz_tone_lands_in_its_mel_band():
    x = np.repeat(_tone(1000.0, 2.0)[:, None], 2, axis=1)
    d = audio_descriptors(x, 2, 1.0)
    centres = mel_band_edges()[1:-1]
    expected = int(np.argmin(np.abs(centres - 1000.0)))
    assert np.argmax(d[0, :64]) == expected
    assert np.argmax(d[1, :64]) == expected
    assert d[0, A["centroid_khz_mean"]] == pytest.approx(1.0, abs=0.05)
    # A sine crosses zero twice per period: 2000 crossings/s over 48,000 samples/s.
    assert d[0, A["zcr_mean"]] == pytest.approx(2000 / AUDIO_SR, rel=0.02)
    # A pure tone is the opposite of flat, and sits far above the bands away from it.
    assert d[0, A["flatness_mean"]] < 1e-3
    assert d[0, expected] - d[0, expected + 10] > 10


def test_other_rates_and_mono_are_handled(tmp_path):
    path = tmp_path / "tone16k.wav"
    sf.write(str(path), _tone(1000.0, 1.0, sr=16000), 16000, subtype="PCM_16")
    x = load_audio(path)
    assert x.shape == (AUDIO_SR, 2)
    d = extract_audio(path, 1, 1.0)[0]
    centres = mel_band_edges()[1:-1]
    assert np.argmax(d[:64]) == int(np.argmin(np.abs(centres - 1000.0)))
    # Mono plays as a centred source.
    assert d[A["lr_correlation"]] == pytest.approx(1.0)
    assert d[A["side_minus_mid_db"]] == -60.0


def test_left_only_vs_centred_stereo():
    noise = np.random.default_rng(0).standard_normal(AUDIO_SR).astype(np.float32) * 0.1
    left_only = audio_descriptors(np.column_stack([noise, np.zeros_like(noise)]), 1)[0]
    centred = audio_descriptors(np.column_stack([noise, noise]), 1)[0]
    assert left_only[A["left_minus_right_db"]] == 60.0
    assert left_only[A["side_minus_mid_db"]] == pytest.approx(0.0, abs=1e-4)  # mid and side are both x/2
    assert left_only[A["lr_correlation"]] == 0.0
    assert centred[A["left_minus_right_db"]] == pytest.approx(0.0, abs=1e-6)
    assert centred[A["side_minus_mid_db"]] == -60.0
    assert centred[A["lr_correlation"]] == pytest.approx(1.0)
    # Anti-phase: side carries everything.
    anti = audio_descriptors(np.column_stack([noise, -noise]), 1)[0]
    assert anti[A["lr_correlation"]] == pytest.approx(-1.0) and anti[A["side_minus_mid_db"]] == 60.0


def test_short_clip_repeats_last_frame_or_fails():
    noise = np.random.default_rng(1).standard_normal((int(9.3 * AUDIO_SR), 2)).astype(np.float32) * 0.1
    d = audio_descriptors(noise, 10, 1.0)
    # 9.3 s covers frame 9 by less than half a hop: it repeats frame 8.
    np.testing.assert_array_equal(d[9], d[8])
    assert not np.array_equal(d[8], d[7])
    with pytest.raises(DataError, match="too short"):
        audio_descriptors(noise[: 5 * AUDIO_SR], 10, 1.0)


def test_damaged_audio_files_raise_dataerror(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(str(good), np.zeros((AUDIO_SR, 2)), AUDIO_SR, subtype="PCM_24")
    trunc = tmp_path / "trunc.wav"
    trunc.write_bytes(good.read_bytes()[: 1000])
    with pytest.raises(DataError, match="truncated wav"):
        load_audio(trunc)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not a wav at all")
    with pytest.raises(DataError, match="cannot decode audio"):
        load_audio(junk)


# ---------------------------------------------------------------- video on known signals


def test_uniform_colour_video(tmp_path):
    img = np.zeros((36, 64, 3), np.uint8)
    img[...] = (0, 200, 0)  # green: hue 1/3 -> bin 5 of 16
    path = _write_mp4(tmp_path / "green.mp4", [img] * 20)
    d = extract_video(path, 2, 1.0)
    assert d.shape == (2, len(video_feature_names())) == (2, 114)
    assert np.isfinite(d).all()
    assert d[0, V["hue_05"]] > 0.95
    assert d[0, V["edge_density"]] == 0.0
    assert d[0, V["luma_std"]] < 0.01
    assert d[0, V["luma_mean"]] == pytest.approx(0.587 * 200 / 255, abs=0.03)
    assert d[0, V["sat_mean"]] > 0.9
    # A flat image has no gradients: every orientation cell is empty.
    assert np.all(d[0, V["grad_r0c0_o0"]:V["grad_r2c2_o7"] + 1] == 0)
    assert d[:, V["motion_mean"]].max() < 0.005


def test_moving_bar_has_motion_energy(tmp_path):
    moving = extract_video(_bar_video(tmp_path / "moving.mp4", True), 2, 1.0)
    static = extract_video(_bar_video(tmp_path / "static.mp4", False), 2, 1.0)
    assert moving[1, V["motion_mean"]] > 0.02
    assert moving[1, V["motion_fraction"]] > 0.05
    assert static[:, V["motion_mean"]].max() < 0.005
    # A vertical bar has horizontal gradients: orientation bin 0 (0..22.5 degrees) dominates.
    cell = static[0, V["grad_r1c1_o0"]:V["grad_r1c1_o7"] + 1]
    assert np.argmax(cell) == 0 and cell[0] > 0.5
    assert static[0, V["edge_density"]] > 0
    # Deterministic decode and descriptors.
    np.testing.assert_array_equal(moving, extract_video(tmp_path / "moving.mp4", 2, 1.0))


def test_damaged_or_short_video_raises_dataerror(tmp_path):
    path = _bar_video(tmp_path / "bar.mp4", True)
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])
    with pytest.raises(DataError):
        extract_video(trunc, 2, 1.0)
    with pytest.raises(DataError, match="too short"):
        extract_video(path, 10, 1.0)  # a 2-s video asked for 10 frames of 1 s


# ---------------------------------------------------------------- batch, writer, resume


def _make_dataset(root, n_per=(("bus", "lyon"), ("park", "paris")), n_clips=6, seconds=2, video=True):
    """Tiny wav (16 kHz) + mp4 (64x36) clips of two scenes, over several locations, and split lists."""
    rng = np.random.default_rng(0)
    (root / "audio").mkdir(parents=True)
    (root / "video").mkdir()
    stems = []
    for scene, city in n_per:
        for k in range(n_clips):
            stem = f"{scene}-{city}-{k % 3 + 1}-{k + 1}"
            sr = 16000
            t = np.arange(seconds * sr) / sr
            if scene == "bus":  # rumble: low-passed noise
                sig = np.convolve(rng.standard_normal(len(t)), np.ones(40) / 40, mode="same") * 0.5
            else:  # birds: high tones over hiss
                sig = 0.2 * np.sin(2 * np.pi * (3000 + 300 * k) * t) + 0.02 * rng.standard_normal(len(t))
            sf.write(str(root / "audio" / f"{stem}.wav"), np.column_stack([sig, 0.8 * sig]), sr, subtype="PCM_24")
            if video:
                colour = (200, 40, 40) if scene == "bus" else (40, 180, 60)
                frames = []
                for i in range(seconds * 4):
                    img = np.full((36, 64, 3), colour, np.uint8)
                    img[:, (i * 6 + k) % 56:(i * 6 + k) % 56 + 8] = 255
                    frames.append(img)
                _write_mp4(root / "video" / f"{stem}.mp4", frames, fps=4)
            stems.append(stem)
    train = [s for s in stems if not s.endswith(("-4", "-5", "-6"))]
    val = [s for s in stems if s.endswith("-4")]
    test = [s for s in stems if s.endswith(("-5", "-6"))]
    head = "filename_audio\tfilename_video\tscene_label\n"
    for name, group in (("fold1_train_tiny.csv", train), ("val.csv", val), ("fold1_evaluate_tiny.csv", test)):
        rows = "".join(f"audio/{s}.wav\tvideo/{s}.mp4\t{s.split('-')[0]}\n" for s in group)
        (root / name).write_text(head + rows)
    return stems, train, test


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    stems, train, test = _make_dataset(root)
    return root, stems, train, test


def test_split_of_list():
    assert split_of_list("a/fold1_train.csv") == "train"
    assert split_of_list("fold1_evaluate.csv") == "test"
    assert split_of_list("fold1_test.csv") == "test"
    assert split_of_list("x/val.csv") == "val"
    assert split_of_list("validation.csv") == "val"
    assert split_of_list("night_clips.csv") == "night_clips"


def test_plan_reports_missing_files(tiny, tmp_path):
    root, stems, *_ = tiny
    audio = tmp_path / "audio"
    audio.mkdir()
    for s in stems[:3]:
        (audio / f"{s}.wav").write_bytes((root / "audio" / f"{s}.wav").read_bytes())
    jobs, problems = plan_clips(audio, root / "video")
    assert [j.clip_id for j in jobs] == sorted(stems[:3])
    assert len(problems) == len(stems) - 3
    assert all("no audio file" in reason for _, reason in problems)
    # Not in fold1: split "all", label from the clip name.
    assert {j.split for j in jobs} == {"all"} and jobs[0].scene_label == "bus"


def test_extract_lists_resume_and_skip(tiny, tmp_path):
    root, stems, train, test = tiny
    lists = [root / "fold1_train_tiny.csv", root / "val.csv", root / "fold1_evaluate_tiny.csv"]
    out = tmp_path / "feat.h5"
    s1 = extract_features(out, root / "audio", root / "video", lists=lists, duration=2.0, chunk_size=3)
    assert s1.ok and s1.n_written == len(stems) and s1.n_already == 0
    with h5py.File(out) as fh:
        assert dict(fh.attrs)["avsc_format"] == "avsc-sk-native" and fh.attrs["avsc_format_version"] == 1
        assert not fh.attrs["synthetic"]
        assert fh["train"]["clip_id"].asstr()[()].tolist() == train
        assert fh["test"]["clip_id"].asstr()[()].tolist() == test
        assert sorted(fh) == ["test", "train", "val"]
        a, v = fh["train/features/audio"], fh["train/features/video"]
        assert a.shape == (len(train), 2 * 170) and v.shape == (len(train), 2 * 114)
        assert a.maxshape == (None, 340) and a.chunks is not None
        assert (v.attrs["n_frames"], v.attrs["dim"]) == (2, 114)
        assert np.isfinite(a[()]).all() and np.isfinite(v[()]).all()
        first = a[()]
    # Resume: nothing left to do, nothing changed.
    s2 = extract_features(out, root / "audio", root / "video", lists=lists, duration=2.0)
    assert s2.n_written == 0 and s2.n_already == len(stems)
    with h5py.File(out) as fh:
        np.testing.assert_array_equal(fh["train/features/audio"][()], first)
    # Other settings never mix into the same file.
    with pytest.raises(OutputExistsError, match="other settings"):
        extract_features(out, root / "audio", root / "video", lists=lists, duration=2.0, hop=0.5)
    with pytest.raises(OutputExistsError, match="modalities"):
        extract_features(out, root / "audio", lists=lists, duration=2.0)


def test_interrupted_file_is_repaired_and_resumed(tiny, tmp_path):
    root, stems, train, test = tiny
    lists = [root / "fold1_train_tiny.csv"]
    out = tmp_path / "feat.h5"
    extract_features(out, root / "audio", lists=lists, duration=2.0, chunk_size=4)
    # Simulate a kill in the middle of the second chunk: 4 complete rows, then datasets grown
    # unevenly and clip ids not yet written.
    keep = 4
    with h5py.File(out, "r+") as fh:
        g = fh["train"]
        for name in ("scene_label", "city", "location", "clip_id", "features/audio"):
            g[name].resize(keep, axis=0)
        g["features/audio"].resize(keep + 3, axis=0)
        g["scene_label"].resize(keep + 3, axis=0)
        g["clip_id"].resize(keep + 2, axis=0)
    summary = extract_features(out, root / "audio", lists=lists, duration=2.0, chunk_size=4)
    assert summary.n_already == keep and summary.n_written == len(train) - keep
    with h5py.File(out) as fh:
        g = fh["train"]
        assert g["clip_id"].asstr()[()].tolist() == train
        assert g["features/audio"].shape[0] == len(train)


def test_bad_file_is_skipped_and_reported_by_cli(tiny, tmp_path, capsys):
    from avsc_sk.cli import main

    root, stems, *_ = tiny
    audio, video = tmp_path / "audio", tmp_path / "video"
    audio.mkdir()
    video.mkdir()
    for s in stems[:4]:
        (audio / f"{s}.wav").write_bytes((root / "audio" / f"{s}.wav").read_bytes())
        (video / f"{s}.mp4").write_bytes((root / "video" / f"{s}.mp4").read_bytes())
    bad = stems[1]
    (video / f"{bad}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    out = tmp_path / "f.h5"
    status = main(["extract", "--audio-dir", str(audio), "--video-dir", str(video), "--out", str(out),
                   "--duration", "2", "--quiet"])
    captured = capsys.readouterr()
    assert status == 1
    assert f"skipped {bad}: {bad}.mp4:" in captured.err
    assert "3 clips extracted" in captured.out and "1 skipped" in captured.out
    with h5py.File(out) as fh:
        assert bad not in fh["all"]["clip_id"].asstr()[()].tolist()
        assert fh["all"]["clip_id"].shape == (3,)


def test_parallel_matches_serial(tiny, tmp_path):
    root, stems, *_ = tiny
    a = extract_features(tmp_path / "a.h5", root / "audio", root / "video", duration=2.0, n_jobs=1)
    b = extract_features(tmp_path / "b.h5", root / "audio", root / "video", duration=2.0, n_jobs=2, chunk_size=5)
    assert a.n_written == b.n_written == len(stems)
    with h5py.File(tmp_path / "a.h5") as fa, h5py.File(tmp_path / "b.h5") as fb:
        for key in ("all/clip_id", "all/features/audio", "all/features/video"):
            np.testing.assert_array_equal(fa[key][()], fb[key][()])


def test_dask_backend_needs_distributed(tiny, tmp_path, monkeypatch):
    root, *_ = tiny
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes "import distributed" fail
    with pytest.raises(MissingDependencyError, match=r"avsc-sk\[dask\]"):
        extract_features(tmp_path / "d.h5", root / "audio", duration=2.0, backend="dask", scheduler="local")


def test_writer_refuses_foreign_file(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as fh:
        fh.attrs["avsc_format"] = "something-else"
    with pytest.raises(OutputExistsError, match="not a feature file made by extract"):
        FeatureWriter(path, {"audio": (1, 2, ["a", "b"])}, {"x": 1}, "avsc-sk test")
    # --force replaces it.
    with FeatureWriter(path, {"audio": (1, 2, ["a", "b"])}, {"x": 1}, "avsc-sk test", force=True) as w:
        w.append("train", [("bus-lyon-1-1", "bus", "lyon", "lyon-1", {"audio": np.ones((1, 2))})])
    with h5py.File(path) as fh:
        assert fh["train/features/audio"][()].tolist() == [[1.0, 1.0]]
        assert json.loads(fh.attrs["extract_settings"]) == {"x": 1}


def test_reader_accepts_extracted_file(tiny, tmp_path):
    data = pytest.importorskip("avsc_sk.data")
    if not hasattr(data, "read_features"):
        pytest.skip("avsc_sk.data.read_features is not in the tree yet")
    root, stems, train, test = tiny
    out = tmp_path / "feat.h5"
    lists = [root / "fold1_train_tiny.csv", root / "fold1_evaluate_tiny.csv"]
    extract_features(out, root / "audio", root / "video", lists=lists, duration=2.0, chunk_size=5)
    fs = data.read_features(out, "train")
    assert fs.X.shape == (len(train), 2 * 170 + 2 * 114) and fs.X.dtype == np.float32
    assert fs.modalities == (("audio", 2, 170), ("video", 2, 114))
    assert fs.clip_ids.tolist() == train and fs.y.tolist() == [s.split("-")[0] for s in train]
    assert fs.location.tolist() == ["-".join(s.split("-")[1:3]) for s in train]


@pytest.mark.skipif(importlib.util.find_spec("avsc_sk.cli._fit") is None,
                    reason="the fit command (avsc_sk/cli/_fit.py) is not in the tree yet")
def test_fit_early_fusion_on_extracted_file(tiny, tmp_path):
    from avsc_sk.cli import main

    root, stems, train, test = tiny
    out = tmp_path / "feat.h5"
    lists = [root / "fold1_train_tiny.csv", root / "val.csv", root / "fold1_evaluate_tiny.csv"]
    assert main(["extract", "--audio-dir", str(root / "audio"), "--video-dir", str(root / "video"),
                 "--list", str(lists[0]), "--list", str(lists[1]), "--list", str(lists[2]),
                 "--duration", "2", "--out", str(out), "--quiet"]) == 0
    run_dir = tmp_path / "run"
    status = main(["fit", "--fusion", "early", "--features", str(out), "--out", str(run_dir)])
    assert status == 0
    assert (run_dir / "manifest.json").exists()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["scores"]["n_clips"] == len(test)


def test_skipping_unsampled_nonreference_frames_changes_nothing(tmp_path, monkeypatch):
    from avsc_sk.extract import _video

    rng = np.random.default_rng(3)
    texture = rng.integers(0, 255, (36, 128, 3), dtype=np.uint8)
    frames = [np.ascontiguousarray(texture[:, i:i + 64]) for i in range(30)]  # a slow pan
    path = tmp_path / "bframes.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=15)
        s.width, s.height, s.pix_fmt = 64, 36, "yuv420p"
        # B-frames without pyramid: every B-frame is a non-reference frame the sampler may skip.
        s.options = {"preset": "medium", "bf": "3", "b-pyramid": "none", "b_strategy": "0", "crf": "20"}
        for img in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        test = _video._disposable_test(stream)
        assert test is not None
        n_disposable = sum(test(p) for p in c.demux(stream) if p.size)
    assert n_disposable > 5
    fast = list(_video.sample_images(path, 2.0))
    monkeypatch.setattr(_video, "_disposable_test", lambda stream: None)
    full = list(_video.sample_images(path, 2.0))
    assert [t for t, _ in fast] == [t for t, _ in full] and len(full) == 8
    for (_, a), (_, b) in zip(fast, full):
        np.testing.assert_array_equal(a, b)


def test_meta_and_video_only(tiny, tmp_path):
    root, stems, *_ = tiny
    meta = tmp_path / "meta.csv"
    rows = "".join(f"audio/{s}.wav\tvideo/{s}.mp4\t{s.split('-')[0]}\t{s.split('-')[1]}-{s.split('-')[2]}\n"
                   for s in stems[:3])
    meta.write_text("filename_audio\tfilename_video\tscene_label\tidentifier\n" + rows)
    out = tmp_path / "v.h5"
    summary = extract_features(out, video_dir=root / "video", meta=meta, duration=2.0)
    assert summary.ok and summary.n_written == 3 and summary.other_splits == ["all"]
    with h5py.File(out) as fh:
        g = fh["all"]
        assert list(g["features"]) == ["video"]
        assert g["features/video"].shape == (3, 2 * 114)
        assert g["clip_id"].asstr()[()].tolist() == stems[:3]
        assert g["location"].asstr()[()].tolist() == ["-".join(s.split("-")[1:3]) for s in stems[:3]]


def test_dask_backend_local_cluster(tiny, tmp_path):
    pytest.importorskip("distributed")
    root, stems, *_ = tiny
    extract_features(tmp_path / "a.h5", root / "audio", duration=2.0)
    b = extract_features(tmp_path / "b.h5", root / "audio", duration=2.0, backend="dask", scheduler="local", n_jobs=1)
    assert b.ok and b.n_written == len(stems)
    with h5py.File(tmp_path / "a.h5") as fa, h5py.File(tmp_path / "b.h5") as fb:
        np.testing.assert_array_equal(fa["all/features/audio"][()], fb["all/features/audio"][()])


def test_bad_options_are_config_errors(tiny, tmp_path):
    from avsc_sk.errors import ConfigError

    root, *_ = tiny
    for kwargs, match in (({"hop": 0.01}, "0.05 s minimum"), ({"scheduler": "tcp://x:1"}, "needs --backend dask"),
                          ({"n_jobs": 0}, "n-jobs 0"), ({"duration": 0.5}, "at least --hop")):
        with pytest.raises(ConfigError, match=match):
            extract_features(tmp_path / "x.h5", root / "audio", **kwargs)
    with pytest.raises(ConfigError, match="nothing to extract"):
        extract_features(tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()
