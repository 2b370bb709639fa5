"""The synthetic TAU-like generator, its calibration against the study, the built-in cache and `avsc-sk synth`."""

import numpy as np
import pytest

from avsc_sk.data import SCENES, concat_featuresets
from avsc_sk.datasets import GENERATOR_VERSION, load_fold1_metadata, load_tau_like, make_tau_like
from avsc_sk.errors import ConfigError

SMALL = dict(n_clips=150, n_frames=3, dim=16)


def test_deterministic_and_seeded():
    a = make_tau_like(**SMALL, seed=0)
    b = make_tau_like(**SMALL, seed=0)
    c = make_tau_like(**SMALL, seed=1)
    for s in ("train", "val", "test"):
        assert np.array_equal(a[s].X, b[s].X)
        assert list(a[s].clip_ids) == list(c[s].clip_ids)  # the subset does not depend on the seed
        assert not np.allclose(a[s].X, c[s].X)


def test_shapes_values_and_metadata():
    sets = make_tau_like(**SMALL, modalities=("audio", "video", "depth"))
    meta = load_fold1_metadata().set_index("clip_id")
    assert sum(fs.n_clips for fs in sets.values()) == 150
    for split, fs in sets.items():
        assert fs.synthetic and fs.split == split
        assert fs.modalities == (("audio", 3, 16), ("video", 3, 16), ("depth", 3, 16))
        assert fs.X.dtype == np.float32 and fs.X.shape == (fs.n_clips, 3 * 3 * 16)
        assert np.isfinite(fs.X).all() and (fs.X >= 0).all()
        rows = meta.loc[list(fs.clip_ids)]
        assert (rows["split"] == split).all()
        assert list(rows["scene_label"]) == list(fs.y)
        assert list(rows["location"]) == list(fs.location) and list(rows["city"]) == list(fs.city)
        # within-clip variation: frames of a clip differ
        assert np.abs(np.diff(fs.frames("audio"), axis=1)).mean() > 0.01


def test_full_split_sizes_and_clip_values_independent_of_subset():
    full = make_tau_like(n_frames=2, dim=4, modalities=("video",))
    assert {s: fs.n_clips for s, fs in full.items()} == {"train": 7907, "val": 739, "test": 3645}
    sub = make_tau_like(n_clips=300, n_frames=2, dim=4, modalities=("audio", "video"), splits=("test",))
    assert list(sub) == ["test"] and sub["test"].n_clips == 300
    index = {c: i for i, c in enumerate(full["test"].clip_ids)}
    rows = [index[c] for c in sub["test"].clip_ids]
    assert np.array_equal(sub["test"].select("video").X, full["test"].X[rows])


def test_subset_is_stratified_and_keeps_whole_locations():
    sets = make_tau_like(n_clips=600, n_frames=1, dim=2)
    meta = load_fold1_metadata()
    sizes = meta.groupby("split").size()
    for split, fs in sets.items():
        assert abs(fs.n_clips - 600 * sizes[split] / len(meta)) <= 10
        assert set(fs.y) == set(SCENES)  # every scene in every split
    # Whole locations first: each (split, scene) cell has at most one location taken in part.
    per_loc = meta.groupby("location").size()
    for fs in sets.values():
        for scene in SCENES:
            locs, counts = np.unique(fs.location[fs.y == scene], return_counts=True)
            assert sum(c < per_loc[loc] for loc, c in zip(locs, counts)) <= 1


def test_bad_arguments():
    with pytest.raises(ConfigError, match="split"):
        make_tau_like(splits=("dev",))
    with pytest.raises(ConfigError, match="dim"):
        make_tau_like(dim=0)
    with pytest.raises(ConfigError, match="modalities"):
        make_tau_like(modalities=("audio", "audio"))


def test_calibration_matches_the_study():
    """The default pipeline of every mode, trained on fold1 train, lands on the study's figures on its val part.

    This is the check the generator's constants were set by (benchmarks/calibrate_synthetic.py):
    on the validation part of fold1 train, never on the test split. 739 val clips: the
    accuracy tolerance of 0.03 is about 1.8 standard errors.
    """
    from sklearn.metrics import accuracy_score, log_loss
    from threadpoolctl import threadpool_limits

    from avsc_sk.fusion import make_estimator
    from avsc_sk.heads import fit_with_groups

    sets = make_tau_like()  # 12,291 clips, 10 frames, 512-d audio and video
    train, test = sets["train"], sets["val"]
    assert (train.n_clips, test.n_clips, sets["test"].n_clips) == (7907, 739, 3645)
    acc, loss, probs = {}, {}, {}
    with threadpool_limits(1):  # small BLAS calls; threads only contend
        for mode in ("audio", "video", "early"):
            # mean pool, scale, logreg choosing its C on location-grouped inner folds
            clf = fit_with_groups(make_estimator(mode, train.modalities), train.X, train.y, train.groups)
            probs[mode] = clf.predict_proba(test.X)
            acc[mode] = accuracy_score(test.y, clf.classes_[probs[mode].argmax(1)])
            loss[mode] = log_loss(test.y, probs[mode], labels=clf.classes_)
    assert acc["audio"] == pytest.approx(0.706, abs=0.03)
    assert acc["video"] == pytest.approx(0.674, abs=0.03)
    assert acc["early"] == pytest.approx(0.797, abs=0.03)
    # Log loss in the study's range (0.808, 0.854, 0.528), fusion best.
    assert loss["early"] < loss["audio"] < loss["video"] < 1.1
    assert loss["early"] == pytest.approx(0.528, abs=0.1)
    blend = np.sqrt(probs["audio"] * probs["video"])  # a geometric blend of the two modalities
    blend /= blend.sum(axis=1, keepdims=True)
    assert accuracy_score(test.y, clf.classes_[blend.argmax(1)]) > acc["audio"] + 0.07


def test_cache_round_trip(tmp_path, monkeypatch):
    pytest.importorskip("avsc_sk.data._native")
    monkeypatch.setenv("AVSC_SK_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    old = tmp_path / "cache" / f"tau_like-v{GENERATOR_VERSION - 1}-frames2-dim4-seed0.h5"
    old.write_bytes(b"an older generator's values")
    keep = tmp_path / "cache" / "notes.h5"  # not a cache file of ours
    keep.write_bytes(b"x")
    first = load_tau_like("train+val", n_frames=2, dim=4)
    assert not old.exists() and keep.exists()  # an older version's file is removed when a new one is written
    files = [f for f in (tmp_path / "cache").glob("tau_like-*.h5")]
    assert len(files) == 1 and f"-v{GENERATOR_VERSION}-" in files[0].name
    again = load_tau_like("train+val", n_frames=2, dim=4)
    assert again.source == str(files[0])  # read back, not generated
    made = make_tau_like(n_frames=2, dim=4, splits=("train", "val"))
    expected = concat_featuresets([made["train"], made["val"]])
    for fs in (first, again):
        assert fs.synthetic and fs.n_clips == 8646
        assert np.array_equal(fs.X, expected.X) and list(fs.clip_ids) == list(expected.clip_ids)
        assert list(fs.y) == list(expected.y) and list(fs.location) == list(expected.location)
    test = load_tau_like("test", n_frames=2, dim=4)
    assert np.array_equal(test.X, make_tau_like(n_frames=2, dim=4, splits=("test",))["test"].X)


def test_unwritable_cache_generates_in_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("AVSC_SK_CACHE", str(blocker))
    fs = load_tau_like("val", n_frames=1, dim=2)
    assert fs.n_clips == 739 and fs.synthetic


def test_synth_cli_layout_a(tmp_path, capsys):
    data = pytest.importorskip("avsc_sk.data")
    if not hasattr(data, "read_features"):
        pytest.skip("avsc_sk.data.read_features not available yet")
    from avsc_sk.cli import main

    out = tmp_path / "A"
    args = ["synth", "--out", str(out), "--layout", "A", "--clips", "60", "--frames", "4", "--dim", "8"]
    assert main(args) == 0
    line = capsys.readouterr().out.strip()
    assert "SYNTHETIC" in line and str(out) in line and "60 clips" in line
    made = make_tau_like(n_clips=60, n_frames=4, dim=8)
    for split in ("train", "val", "test"):
        fs = data.read_features(out, split)
        order = np.argsort(fs.clip_ids)
        ref = made[split]
        ref_order = np.argsort(ref.clip_ids)
        assert list(fs.clip_ids[order]) == list(ref.clip_ids[ref_order])
        assert np.array_equal(fs.X[order], ref.X[ref_order])
        assert fs.synthetic
    assert main(args) == 2  # exists, no --force
    assert "already exists" in capsys.readouterr().err
