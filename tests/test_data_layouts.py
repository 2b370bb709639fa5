"""Feature layouts A, B and native: exact round trips, detection, split names, and every error path."""

import h5py
import numpy as np
import pytest

from avsc_sk.cli import main
from avsc_sk.data import (
    SCENES,
    FeatureSet,
    convert_features,
    detect_layout,
    list_splits,
    read_features,
    write_features,
)
from avsc_sk.datasets import load_fold1_metadata
from avsc_sk.errors import ConfigError, DataError, OutputExistsError

MODS2 = (("audio", 12, 8), ("video", 12, 8))
MODS3 = (("audio", 12, 8), ("video", 12, 8), ("depth", 5, 3))


@pytest.fixture(scope="module")
def fold1_meta():
    return load_fold1_metadata()


def _make(meta, split, n, mods=MODS2, seed=0, labelled=True):
    rows = meta[meta.split == split].sample(n, random_state=seed)
    rng = np.random.default_rng(seed)
    X = rng.random((n, sum(f * d for _, f, d in mods)), dtype=np.float32)
    y = rows.scene_label if labelled else None
    return FeatureSet(X, mods, rows.clip_id, y, rows.city, rows.location, split=split)


@pytest.fixture(scope="module")
def tiny_featuresets(fold1_meta):
    """Real clip names, 2 modalities of 12 frames x 8 dims; 30/12/20 clips."""
    return {s: _make(fold1_meta, s, n, seed=i) for i, (s, n) in enumerate((("train", 30), ("val", 12), ("test", 20)))}


def _assert_same(got, want, *, ordered=False):
    """Exact equality of every array, matching clips by id unless ``ordered``."""
    assert got.modalities == want.modalities
    if ordered:
        gi = wi = np.arange(want.n_clips)
    else:
        gi, wi = np.argsort(got.clip_ids), np.argsort(want.clip_ids)
    assert got.n_clips == want.n_clips
    assert got.X.dtype == np.float32 and got.X.flags.c_contiguous
    np.testing.assert_array_equal(got.X[gi], want.X[wi])
    for attr in ("clip_ids", "city", "location"):
        assert getattr(got, attr)[gi].tolist() == getattr(want, attr)[wi].tolist()
    if want.y is None:
        assert got.y is None
    else:
        assert got.y[gi].tolist() == want.y[wi].tolist()


def _write_file(path, entries, attrs=None):
    """A raw per-clip HDF5 file: ``{key: array}``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as fh:
        for key, value in entries.items():
            fh.create_dataset(key, data=value)
        for k, v in (attrs or {}).items():
            fh.attrs[k] = v


def _a_root(tmp_path, audio, video=None):
    """A layout-A root with train files built from ``{stem: frames}`` (label index from the stem)."""
    root = tmp_path / "a_root"
    for mod, clips in (("audio", audio), ("video", video)):
        if clips is not None:
            entries = {f"{SCENES.index(s.split('-')[0])}/{mod}/{s}": v for s, v in clips.items()}
            _write_file(root / f"{mod}_features_data" / "train.hdf5", entries)
    return root


STEMS = ["bus-lyon-1100-40123", "airport-lisbon-1000-40000", "tram-vienna-285-8639"]


def _frames(n_frames=12, dim=8, seed=0):
    return np.random.default_rng(seed).random((n_frames, dim), dtype=np.float32)


# -- round trips -------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["native", "A", "B"])
def test_round_trip_is_exact(tmp_path, tiny_featuresets, layout):
    target = tmp_path / ("f.h5" if layout == "native" else "root")
    out = write_features(target, tiny_featuresets, layout=layout)
    assert detect_layout(out) == layout
    assert list_splits(out) == ["train", "val", "test"]
    for split, want in tiny_featuresets.items():
        got = read_features(out, split)
        assert got.split == split and not got.synthetic
        _assert_same(got, want, ordered=layout == "native")
    if layout != "native":  # per-clip layouts list clips by label index, then stem, as the reference loaders walk
        got = read_features(out, "test")
        order = sorted(got.clip_ids, key=lambda s: (SCENES.index(s.split("-")[0]), s))
        assert got.clip_ids.tolist() == order


def test_three_modalities_any_dim_and_order(tmp_path, fold1_meta):
    fs = _make(fold1_meta, "train", 25, mods=MODS3, seed=3)
    for layout, target in (("native", tmp_path / "n.h5"), ("A", tmp_path / "a")):
        out = write_features(target, {"train": fs}, layout=layout)
        got = read_features(out)
        # Default order: audio, video, then the others alphabetically, whatever order they were stored in.
        assert got.modality_names == ("audio", "video", "depth")
        _assert_same(got, fs, ordered=layout == "native")
        picked = read_features(out, modalities=["depth", "audio"])
        assert picked.modalities == (("depth", 5, 3), ("audio", 12, 8))
        _assert_same(picked, fs.select(["depth", "audio"]), ordered=layout == "native")
        with pytest.raises(DataError, match=r"no modality 'lidar'.*available: audio, video, depth"):
            read_features(out, modalities=["lidar"])


def test_layout_b_structure(tmp_path, tiny_featuresets):
    root = write_features(tmp_path / "b", tiny_featuresets, layout="B")
    fs = tiny_featuresets["train"]
    stem, scene = fs.clip_ids[0], fs.y[0]
    key = f"{SCENES.index(scene)}/video/{stem}"
    with h5py.File(root / "features_data/video_features_data/tr.hdf5", "r") as fh:
        group = fh[key]
        assert isinstance(group, h5py.Group)
        assert sorted(group, key=int) == [str(i) for i in range(12)]
        assert group["5"].shape == (8,)
        np.testing.assert_array_equal(group["5"][()], fs.frames("video")[0, 5])
    assert (root / "features_data/audio_features_data/val.hdf5").is_file()
    tt = tiny_featuresets["test"]
    with h5py.File(root / "features_data/audio_features_data/tt.hdf5", "r") as fh:
        ds = fh[f"{SCENES.index(tt.y[0])}/audio/{tt.clip_ids[0]}"]
        assert isinstance(ds, h5py.Dataset) and ds.shape == (12, 8)
    # features_data itself is a layout-B root too.
    assert detect_layout(root / "features_data") == "B"
    _assert_same(read_features(root / "features_data", "val"), tiny_featuresets["val"])


def test_layout_a_file_keys(tmp_path, tiny_featuresets):
    root = write_features(tmp_path / "a", tiny_featuresets, layout="A")
    fs = tiny_featuresets["val"]
    with h5py.File(root / "audio_features_data/val.hdf5", "r") as fh:
        ds = fh[f"{SCENES.index(fs.y[3])}/audio/{fs.clip_ids[3]}"]
        assert ds.shape == (12, 8)
        np.testing.assert_array_equal(ds[()], fs.frames("audio")[3])


def test_native_file_attributes_and_dir_target(tmp_path, tiny_featuresets):
    out = write_features(tmp_path / "nat", {"test": tiny_featuresets["test"]})
    assert out == tmp_path / "nat" / "features.h5"
    assert detect_layout(tmp_path / "nat") == "native"
    with h5py.File(out, "r") as fh:
        assert fh.attrs["avsc_format"] == "avsc-sk-native"
        assert int(fh.attrs["avsc_format_version"]) == 1
        assert fh.attrs["created_by"].startswith("avsc-sk ")
        assert not fh.attrs["synthetic"]
        ds = fh["test/features/video"]
        assert ds.shape == (20, 96) and ds.dtype == np.float32
        assert (int(ds.attrs["n_frames"]), int(ds.attrs["dim"])) == (12, 8)
        assert fh["test/clip_id"].asstr()[0] == tiny_featuresets["test"].clip_ids[0]


def test_native_unlabelled_and_synthetic(tmp_path, fold1_meta):
    fs = _make(fold1_meta, "test", 10, labelled=False)
    fs.synthetic = True
    out = write_features(tmp_path / "u.h5", {"test": fs})
    got = read_features(out, "test")
    assert got.y is None and got.synthetic
    _assert_same(got, fs, ordered=True)
    with pytest.raises(DataError, match="unlabelled.*layout='native'"):
        write_features(tmp_path / "a", {"test": fs}, layout="A")
    assert not (tmp_path / "a").exists()


def test_synthetic_flag_survives_layout_a(tmp_path, fold1_meta):
    fs = _make(fold1_meta, "train", 8)
    fs.synthetic = True
    assert read_features(write_features(tmp_path / "a", {"train": fs}, layout="A")).synthetic


def test_native_chunked_resizable_dataset(tmp_path, tiny_featuresets):
    """The appending extractor writes chunked datasets with maxshape (None, width): same result."""
    fs = tiny_featuresets["train"]
    path = tmp_path / "chunked.h5"
    with h5py.File(path, "w") as fh:
        fh.attrs.update(avsc_format="avsc-sk-native", avsc_format_version=1, synthetic=False,
                        created_by="avsc-sk test")
        g = fh.create_group("train")
        text = h5py.string_dtype()
        for name, values in (("clip_id", fs.clip_ids), ("scene_label", fs.y), ("city", fs.city),
                             ("location", fs.location)):
            g.create_dataset(name, data=np.array(values.tolist(), dtype=object), dtype=text)
        for mod, f, d in fs.modalities:
            ds = g.create_dataset(f"features/{mod}", shape=(0, f * d), maxshape=(None, f * d), chunks=(7, f * d),
                                  dtype="f4")
            ds.attrs.update(n_frames=f, dim=d)
            for r0 in range(0, fs.n_clips, 7):  # appended in chunks, as an extraction would
                block = fs.X[r0:r0 + 7, fs.columns(mod)]
                ds.resize(r0 + len(block), axis=0)
                ds[r0:] = block
    _assert_same(read_features(path), fs, ordered=True)
    cut = read_features(path, max_frames=4)
    assert cut.modalities == (("audio", 4, 8), ("video", 4, 8))
    np.testing.assert_array_equal(cut.frames("video"), fs.frames("video")[:, :4])


def test_missing_modality_round_trip(tmp_path, tiny_featuresets):
    fs = tiny_featuresets["train"]
    X = fs.X.copy()
    X[[2, 5], fs.columns("video")] = np.nan
    holey = FeatureSet(X, fs.modalities, fs.clip_ids, fs.y, fs.city, fs.location, split="train")
    for layout, target in (("native", tmp_path / "n.h5"), ("A", tmp_path / "a"), ("B", tmp_path / "b")):
        out = write_features(target, {"train": holey}, layout=layout)
        with pytest.raises(DataError, match=r"2 clip\(s\) .* lack a modality .*\(no video\).*allow_missing_modality"):
            read_features(out)
        got = read_features(out, allow_missing_modality=True)
        lacking = set(got.clip_ids[got.missing()[:, 1]])
        assert lacking == set(fs.clip_ids[[2, 5]]) and not got.missing()[:, 0].any()
        gi, wi = np.argsort(got.clip_ids), np.argsort(fs.clip_ids)
        np.testing.assert_array_equal(np.nan_to_num(got.X[gi], nan=-1), np.nan_to_num(X[wi], nan=-1))
        # Reading only the modality the two clips lack drops them (native) or never sees them (A, B).
        assert read_features(out, modalities=["video"], allow_missing_modality=True).n_clips == 28


# -- pooled while reading -----------------------------------------------------------------------

STATS = ("mean", "std", "max", "min", "q0.1", "q0.5")


@pytest.mark.parametrize("layout", ["native", "A", "B"])
@pytest.mark.parametrize("cells", [1, 200, 1 << 24])  # a clip per chunk, chunks ending mid-split, one chunk
def test_pooled_read_equals_pooling_the_frames(tmp_path, tiny_featuresets, layout, cells, monkeypatch):
    from avsc_sk.data import _features

    monkeypatch.setattr(_features, "_CHUNK_CELLS", cells)
    fs = tiny_featuresets["train"]
    X = fs.X.copy()
    X[[2, 5], fs.columns("video")] = np.nan
    holey = FeatureSet(X, fs.modalities, fs.clip_ids, fs.y, fs.city, fs.location, split="train")
    out = write_features(tmp_path / ("f.h5" if layout == "native" else "root"),
                         {"train": holey, "val": tiny_featuresets["val"]}, layout=layout)
    frames = read_features(out, "train+val", allow_missing_modality=True)
    pooled = read_features(out, "train+val", allow_missing_modality=True, stats=STATS)
    assert pooled.stats == STATS and pooled.modalities == frames.modalities
    assert pooled.X.shape == (42, len(STATS) * (8 + 8)) and pooled.X.flags.c_contiguous
    np.testing.assert_array_equal(pooled.X, frames.pool(STATS).X)
    np.testing.assert_array_equal(pooled.missing(), frames.missing())
    lacking = pooled.missing()[:, 1]
    assert lacking.sum() == 2 and np.isnan(pooled.X[lacking][:, pooled.columns("video")]).all()
    # The statistics in their columns: audio's std block is the frames' std over time.
    audio = frames.frames("audio")
    np.testing.assert_allclose(pooled.X[:, 8:16], audio.std(axis=1), rtol=1e-6)
    np.testing.assert_allclose(pooled.X[:, 40:48], np.quantile(audio, 0.5, axis=1), rtol=1e-6)


def test_fingerprint_is_hashed_while_reading(tmp_path, tiny_featuresets, monkeypatch):
    from avsc_sk.data import _features

    monkeypatch.setattr(_features, "_CHUNK_CELLS", 500)  # several chunks per split
    out = write_features(tmp_path / "f.h5", tiny_featuresets)
    got = read_features(out, "train+val")
    assert got._digest is not None
    recomputed = FeatureSet(got.X, got.modalities, got.clip_ids, got.y, got.city, got.location)
    assert got.fingerprint() == recomputed.fingerprint()  # the same hash as over the whole X afterwards
    pooled = read_features(out, "train+val", stats=("mean",))
    assert pooled.fingerprint() != got.fingerprint()
    assert pooled.fingerprint() == read_features(out, "train+val", stats=("mean",)).fingerprint()


def test_pooled_featureset_layout_and_refusals(tmp_path, tiny_featuresets):
    fs = tiny_featuresets["test"].pool(("mean", "max"))
    assert fs.columns("video") == slice(16, 32) and "stats mean/max" in repr(fs)
    with pytest.raises(DataError, match="hold the statistics .*stats=None"):
        fs.frames("audio")
    with pytest.raises(DataError, match="not frames; feature files store frames"):
        write_features(tmp_path / "f.h5", {"test": fs})
    with pytest.raises(ConfigError, match="unknown statistic 'median'"):
        read_features(write_features(tmp_path / "g.h5", tiny_featuresets), "test", stats=("median",))
    with pytest.raises(DataError, match="span 48 columns but X has 32"):
        FeatureSet(fs.X, fs.modalities, fs.clip_ids, stats=("mean", "std", "max"))


def test_part_nan_is_refused_when_pooling_while_reading(tmp_path, tiny_featuresets):
    fs = tiny_featuresets["val"]
    X = fs.X.copy()
    X[4, fs.columns("audio").start + 3] = np.nan
    out = write_features(tmp_path / "f.h5", {"val": FeatureSet(X, fs.modalities, fs.clip_ids, fs.y)})
    with pytest.raises(DataError, match=f"NaN or inf in the audio embeddings of clip '{fs.clip_ids[4]}'"):
        read_features(out, "val", allow_missing_modality=True, stats=("max",))


def test_missing_is_one_definition(tiny_featuresets):
    # Issue 10 item 13: FeatureSet.missing used to look at a block's first value only.
    from avsc_sk.data import missing_mask
    from avsc_sk.fusion import _base

    assert _base.missing_mask is missing_mask  # what the fusion estimators use
    fs = tiny_featuresets["val"]
    X = fs.X.copy()
    X[1, fs.columns("audio")] = np.nan
    X[3, fs.columns("video").start] = np.nan  # NaN in part: not a missing modality
    holey = FeatureSet(X, fs.modalities, fs.clip_ids)
    expected = np.zeros((12, 2), dtype=bool)
    expected[1, 0] = True
    np.testing.assert_array_equal(holey.missing(), expected)
    np.testing.assert_array_equal(missing_mask(X, [holey.columns(m) for m in holey.modality_names]), expected)
    with pytest.raises(DataError, match="row 3: NaN or infinity in part"):
        holey.pool(("mean",))


# -- frames ------------------------------------------------------------------------------------

def test_97_frame_clips_cut_to_96(tmp_path):
    audio = {STEMS[0]: _frames(97, 4, 0), STEMS[1]: _frames(96, 4, 1), STEMS[2]: _frames(97, 4, 2)}
    root = _a_root(tmp_path, audio, {s: _frames(96, 4, 9) for s in STEMS})
    fs = read_features(root)
    assert fs.modalities == (("audio", 96, 4), ("video", 96, 4))
    row = fs.clip_ids.tolist().index(STEMS[0])
    np.testing.assert_array_equal(fs.frames("audio")[row], audio[STEMS[0]][:96])
    with pytest.raises(DataError, match=r"clip 'airport-lisbon-1000-40000' in .*train.hdf5 has 96 audio frame.*"
                                        r"fewer than the 97.*max_frames=96"):
        read_features(root, max_frames=None)
    assert read_features(root, max_frames=10).modalities[0] == ("audio", 10, 4)


def test_max_frames_must_be_positive(tmp_path, tiny_featuresets):
    out = write_features(tmp_path / "f.h5", tiny_featuresets)
    with pytest.raises(ConfigError, match="max_frames=0"):
        read_features(out, max_frames=0)
    assert read_features(out, max_frames=None).modalities == MODS2


# -- detection and split names -----------------------------------------------------------------

def test_split_aliases_and_joins(tmp_path, tiny_featuresets):
    for layout in ("native", "A", "B"):
        out = write_features(tmp_path / f"{layout}.h5" if layout == "native" else tmp_path / layout,
                             tiny_featuresets, layout=layout)
        ordered = layout == "native"
        _assert_same(read_features(out, "tr"), tiny_featuresets["train"], ordered=ordered)
        for alias in ("tt", "evaluate", "TEST"):
            _assert_same(read_features(out, alias), tiny_featuresets["test"], ordered=ordered)
        both = read_features(out, "train+val")
        assert both.split == "train+val" and both.n_clips == 42
        # train's clips first, then val's, as one array.
        assert set(both.clip_ids[:30]) == set(tiny_featuresets["train"].clip_ids)
        assert both.X.flags.c_contiguous and both.X.dtype == np.float32
        _assert_same(read_features(out, "tr,val"), both, ordered=True)
    with pytest.raises(ConfigError, match="unknown split 'dev2'"):
        read_features(out, "dev2")
    with pytest.raises(ConfigError, match="same split twice"):
        read_features(out, "train+tr")


def test_missing_split_names_available(tmp_path, tiny_featuresets):
    out = write_features(tmp_path / "a", {"train": tiny_featuresets["train"]}, layout="A")
    assert list_splits(out) == ["train"]
    with pytest.raises(DataError, match="no 'test' split .*available: train"):
        read_features(out, "test")


def test_detect_unknown_folder(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="holds no recognised features"):
        detect_layout(tmp_path / "stuff")


# -- errors ------------------------------------------------------------------------------------

def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_features(tmp_path / "nope.h5")


@pytest.mark.parametrize("content, reason", [(b"", "it is empty"), (b"hello, not hdf5\n" * 20, "signature")])
def test_not_hdf5(tmp_path, content, reason):
    path = tmp_path / "feat.h5"
    path.write_bytes(content)
    with pytest.raises(DataError, match=rf"feat.h5 is not a readable HDF5 file \(.*{reason}.*\); re-create it"):
        read_features(path)


def test_truncated_file(tmp_path, tiny_featuresets):
    out = write_features(tmp_path / "f.h5", tiny_featuresets)
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="f.h5 is not a readable HDF5 file .*re-create it"):
        read_features(out)


def test_truncated_layout_a_file(tmp_path, tiny_featuresets):
    root = write_features(tmp_path / "a", tiny_featuresets, layout="A")
    f = root / "video_features_data" / "val.hdf5"
    f.write_bytes(f.read_bytes()[:1000])
    with pytest.raises(DataError, match="val.hdf5 is not a readable HDF5 file"):
        read_features(root, "val")


def test_native_errors(tmp_path, tiny_featuresets):
    out = write_features(tmp_path / "f.h5", tiny_featuresets)
    with h5py.File(out, "a") as fh:
        fh.attrs["avsc_format_version"] = 2
    with pytest.raises(DataError, match="version 2 .*upgrade avsc-sk"):
        read_features(out)
    plain = tmp_path / "plain.h5"
    _write_file(plain, {"0/audio/" + STEMS[1]: _frames()})
    with pytest.raises(DataError, match="not an avsc-sk native feature file"):
        read_features(plain)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_or_inf_in_layout_a(tmp_path, value):
    bad = _frames(seed=4)
    bad[3, 2] = value
    root = _a_root(tmp_path, {STEMS[0]: _frames(), STEMS[1]: bad}, {s: _frames() for s in STEMS[:2]})
    with pytest.raises(DataError, match=r"NaN or inf in the audio embeddings of clip 'airport-lisbon-1000-40000' "
                                        r"in .*audio_features_data.*train.hdf5"):
        read_features(root)


def test_partial_nan_in_native_even_when_missing_allowed(tmp_path, tiny_featuresets):
    fs = tiny_featuresets["val"]
    X = fs.X.copy()
    X[4, fs.columns("audio").start + 3] = np.nan  # one value, not a whole missing block
    out = write_features(tmp_path / "f.h5", {"val": FeatureSet(X, fs.modalities, fs.clip_ids, fs.y)})
    for allow in (False, True):
        with pytest.raises(DataError, match=f"NaN or inf in the audio embeddings of clip '{fs.clip_ids[4]}'"):
            read_features(out, "val", allow_missing_modality=allow)


def test_wrong_ndim(tmp_path):
    root = _a_root(tmp_path, {STEMS[0]: _frames(), STEMS[1]: _frames().ravel()})
    with pytest.raises(DataError, match=r"dataset '0/audio/airport-lisbon-1000-40000' has shape \(96,\); "
                                        r"expected \(n_frames, dim\)"):
        read_features(root)


def test_dim_mismatch(tmp_path):
    root = _a_root(tmp_path, {STEMS[0]: _frames(12, 8), STEMS[1]: _frames(12, 9), STEMS[2]: _frames(12, 8)})
    with pytest.raises(DataError, match="clip 'airport-lisbon-1000-40000' in .*train.hdf5 has audio frames of dim 9 "
                                        "but clip 'bus-lyon-1100-40123' has dim 8"):
        read_features(root)


def test_label_index_out_of_range(tmp_path):
    root = tmp_path / "a"
    _write_file(root / "audio_features_data/train.hdf5", {f"12/audio/{STEMS[0]}": _frames()})
    with pytest.raises(DataError, match=r"label index 12 in .*train.hdf5 is out of range; expected 0..9"):
        read_features(root)


def test_label_disagrees_with_clip_name(tmp_path):
    root = tmp_path / "a"
    _write_file(root / "audio_features_data/train.hdf5", {f"3/audio/{STEMS[0]}": _frames()})
    with pytest.raises(DataError, match=r"'bus-lyon-1100-40123' .* label index 3 \(metro_station\) but its name "
                                        r"says bus"):
        read_features(root)


def test_unexpected_key_structure(tmp_path):
    root = tmp_path / "a"
    _write_file(root / "audio_features_data/train.hdf5", {f"1/video/{STEMS[0]}": _frames()})
    with pytest.raises(DataError, match="unexpected entry '1/video'; expected keys '<label_index>/audio/<stem>'"):
        read_features(root)


def test_clips_in_one_modality_only(tmp_path):
    audio = {s: _frames(seed=i) for i, s in enumerate(STEMS)}
    more = {f"park-paris-{i}-{i}": _frames(seed=10 + i) for i in range(4)}
    root = _a_root(tmp_path, {**audio, **more}, audio)
    with pytest.raises(DataError, match=r"4 clip\(s\) .* lack a modality \(e\.g\. park-paris-0-0 \(no video\), "
                                        r"park-paris-1-1 \(no video\), park-paris-2-2 \(no video\)\)"):
        read_features(root)
    fs = read_features(root, allow_missing_modality=True)
    assert fs.n_clips == 7
    miss = fs.missing()
    assert miss[:, 0].sum() == 0 and miss[:, 1].sum() == 4
    row = fs.clip_ids.tolist().index("park-paris-2-2")
    assert np.isnan(fs.frames("video")[row]).all()
    np.testing.assert_array_equal(fs.frames("audio")[row], more["park-paris-2-2"])


def test_empty_split(tmp_path):
    root = tmp_path / "a"
    root.joinpath("audio_features_data").mkdir(parents=True)
    with h5py.File(root / "audio_features_data/train.hdf5", "w"):
        pass
    with pytest.raises(DataError, match="split 'train' in .* holds no clips"):
        read_features(root)


def test_existing_output_is_left_alone(tmp_path, tiny_featuresets):
    out = write_features(tmp_path / "f.h5", tiny_featuresets)
    before = out.read_bytes()
    with pytest.raises(OutputExistsError, match="already exists.*--force"):
        write_features(out, {"train": tiny_featuresets["val"]})
    assert out.read_bytes() == before
    root = write_features(tmp_path / "a", tiny_featuresets, layout="A")
    f = root / "audio_features_data/train.hdf5"
    before = f.read_bytes()
    with pytest.raises(OutputExistsError):
        write_features(root, {"train": tiny_featuresets["val"]}, layout="A")
    assert f.read_bytes() == before
    # With force the whole root is replaced: the old val/test files are gone.
    write_features(root, {"train": tiny_featuresets["val"]}, layout="A", force=True)
    assert list_splits(root) == ["train"]
    _assert_same(read_features(root), FeatureSet(tiny_featuresets["val"].X, MODS2,
                                                 tiny_featuresets["val"].clip_ids, tiny_featuresets["val"].y))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


# -- convert -----------------------------------------------------------------------------------

def test_convert_features_reads_every_split(tmp_path, tiny_featuresets):
    src = write_features(tmp_path / "b", tiny_featuresets, layout="B")
    result = convert_features(src, tmp_path / "out.h5", max_frames=6)
    assert result.splits == {"train": 30, "val": 12, "test": 20}
    assert result.modalities["val"] == (("audio", 6, 8), ("video", 6, 8))
    got = read_features(result.path, "test")
    want = tiny_featuresets["test"]
    gi, wi = np.argsort(got.clip_ids), np.argsort(want.clip_ids)
    np.testing.assert_array_equal(got.frames("audio")[gi], want.frames("audio")[wi][:, :6])


def test_convert_cli(tmp_path, tiny_featuresets, capsys):
    src = write_features(tmp_path / "a", tiny_featuresets, layout="A")
    out = tmp_path / "conv.h5"
    assert main(["convert", str(src), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == [f"wrote {out}: train 30 clips, val 12 clips, test 20 clips; modalities audio 12x8, video 12x8"]
    for split, want in tiny_featuresets.items():
        _assert_same(read_features(out, split), want)
    before = out.read_bytes()
    assert main(["convert", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("avsc-sk: error: ") and "already exists" in err[0]
    assert out.read_bytes() == before
    assert main(["convert", str(src), "--out", str(out), "--force", "--max-frames", "3"]) == 0
    assert read_features(out).modalities == (("audio", 3, 8), ("video", 3, 8))
    assert main(["convert", str(tmp_path / "missing"), "--out", str(tmp_path / "x.h5")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_info_shows_clips_per_modality_and_warns_of_missing_ones(tmp_path, tiny_featuresets, capsys):
    # Regression: info on layout A with some video clips deleted reported full counts and no warning.
    fs = tiny_featuresets["train"]
    X = fs.X.copy()
    X[[2, 5], fs.columns("video")] = np.nan
    holey = FeatureSet(X, fs.modalities, fs.clip_ids, fs.y, fs.city, fs.location, split="train")
    for layout, target in (("A", tmp_path / "a"), ("B", tmp_path / "b")):
        out = write_features(target, {"train": holey, "test": tiny_featuresets["test"]}, layout=layout)
        assert main(["info", str(out)]) == 0
        captured = capsys.readouterr()
        lines = captured.out.splitlines()
        train = lines.index(next(line for line in lines if line.startswith("split train:")))
        assert lines[train].startswith("split train: 30 clips")
        assert lines[train + 1] == "  clips per modality: audio 30, video 28"
        assert "  clips per modality: audio 20, video 20" in lines
        assert captured.err.splitlines() == [
            "avsc-sk: warning: split train: 2 without video of 30 clips; the commands reading them stop on such "
            "clips unless given --allow-missing-modality (or select the complete modalities)"]
