"""Property-based tests: readers on garbage, truncated and random valid files; FramePooler against numpy.

A reader given any bytes returns a FeatureSet or raises an AvscError, never another exception;
a valid file written by avsc-sk in any layout reads back exactly.
"""

import os
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from avsc_sk._pooling import POOLING_STATS, FramePooler
from avsc_sk.data import SCENES, FeatureSet, read_features, write_features
from avsc_sk.errors import AvscError

from conftest import small_featureset

# AVSC_FUZZ_EXAMPLES=2000 for a long hunt; the default keeps the suite fast.
# Derandomised: the same examples on every run, so the suite cannot fail by chance. Random byte
# flips can make the HDF5 library itself crash the process (a segfault in h5py's attribute
# reader, seen once in a full suite run here), which no Python code can turn into an error;
# AVSC_FUZZ_RANDOM=1 explores new examples.
FUZZ = settings(max_examples=int(os.environ.get("AVSC_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                derandomize=not os.environ.get("AVSC_FUZZ_RANDOM"))

_GOOD = {}


def _good_files(layout="native"):
    """``{relative path: bytes}`` of a small valid feature set in ``layout`` (made once per layout)."""
    if layout not in _GOOD:
        with tempfile.TemporaryDirectory() as d:
            fs = small_featureset("train", n_per_class=2, n_frames=3, dims=(4, 2))
            root = Path(d) / ("f.h5" if layout == "native" else "root")
            write_features(root, {"train": fs, "test": fs.subset(np.arange(5))}, layout=layout)
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
            _GOOD[layout] = {str(p.relative_to(d)): p.read_bytes() for p in files}
    return _GOOD[layout]


def _good_bytes():
    return _good_files("native")["f.h5"]


def _read_or_avsc_error(path, split="train", **kwargs):
    """Read, returning the FeatureSet or None for an AvscError; anything else fails the test."""
    try:
        fs = read_features(path, split, **kwargs)
    except AvscError as exc:
        message = str(exc)
        assert message and "\n" not in message
        return None
    assert isinstance(fs, FeatureSet)
    assert fs.X.dtype == np.float32 and fs.X.ndim == 2 and fs.X.shape[0] == len(fs.clip_ids) > 0
    assert np.isfinite(fs.X[~np.isnan(fs.X)]).all()
    return fs


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused_cleanly(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.h5"
        path.write_bytes(data)
        assert _read_or_avsc_error(path) is None


@FUZZ
@given(st.data())
def test_truncated_native_file_is_refused_or_reads(data):
    good = _good_bytes()
    cut = data.draw(st.integers(0, len(good) - 1), label="cut")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cut.h5"
        path.write_bytes(good[:cut])
        _read_or_avsc_error(path, data.draw(st.sampled_from(["train", "test", "train+test"])))


@FUZZ
@given(st.sampled_from(["native", "A", "B"]), st.data())
def test_corrupted_files_are_refused_or_read(layout, data):
    files = {k: bytearray(v) for k, v in _good_files(layout).items()}
    for _ in range(data.draw(st.integers(1, 8), label="n_flips")):
        name = data.draw(st.sampled_from(sorted(files)), label="file")
        i = data.draw(st.integers(0, len(files[name]) - 1), label="offset")
        files[name][i] = data.draw(st.integers(0, 255), label="byte")
    with tempfile.TemporaryDirectory() as d:
        for name, content in files.items():
            (Path(d) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(d) / name).write_bytes(bytes(content))
        fs = _read_or_avsc_error(Path(d) / ("f.h5" if layout == "native" else "root"),
                                 data.draw(st.sampled_from(["train", "test"]), label="split"))
        if fs is not None:
            assert set(fs.y.tolist()) <= set(SCENES) and len(set(fs.clip_ids.tolist())) == fs.n_clips


# -- random layout-A files: any keys, shapes and dtypes ---------------------------------------
_label_keys = st.one_of(st.integers(-2, 12).map(str), st.sampled_from(["x", "", "01", " 3"]))
_stems = st.one_of(
    st.sampled_from(["bus-lyon-1100-40123", "park-paris-2-3", "tram-vienna-7-7", "airport-lisbon-1-1"]),
    st.from_regex(r"[a-z_]{1,8}-[a-z]{1,5}-[0-9]{1,3}-[0-9a-z]{1,3}", fullmatch=True),
    st.text(alphabet="abc-_.0", min_size=1, max_size=10),
)
_shapes = st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple)
_dtypes = st.sampled_from(["f4", "f8", "i2", "u1", "S3"])
_values = st.sampled_from([0.0, 1.5, np.nan, np.inf])


@FUZZ
@given(st.lists(st.tuples(_label_keys, st.sampled_from(["audio", "video"]), _stems, _shapes, _dtypes, _values),
                min_size=0, max_size=6))
def test_random_layout_a_is_refused_or_reads(entries):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for mod in ("audio", "video"):
            (root / f"{mod}_features_data").mkdir()
        files = {}
        for lab, mod, stem, shape, dtype, value in entries:
            key = f"{lab}/{mod}/{stem}"
            fh = files.get(mod) or files.setdefault(mod, h5py.File(root / f"{mod}_features_data/train.hdf5", "w"))
            if key in fh or any(key.startswith(k + "/") or k.startswith(key + "/") for k in _keys(fh)):
                continue
            try:
                fh.create_dataset(key, data=np.full(shape, value if dtype[0] == "f" else 1, dtype=dtype))
            except ValueError:
                continue  # a key h5py cannot store (e.g. "." in a path)
        for fh in files.values():
            fh.close()
        fs = _read_or_avsc_error(root, allow_missing_modality=True)
        if fs is not None:
            assert fs.y is not None and set(fs.y.tolist()) <= set(SCENES)


def _keys(fh):
    out = []
    fh.visit(out.append)
    return out


# -- random valid files read back exactly in every layout --------------------------------------
@st.composite
def featuresets(draw):
    n_per = draw(st.integers(1, 2))
    n_frames = draw(st.integers(1, 5))
    n_mods = draw(st.integers(1, 2))
    dims = tuple(draw(st.integers(1, 4)) for _ in range(n_mods))
    seed = draw(st.integers(0, 2**16))
    fs = small_featureset("train", n_per_class=n_per, n_frames=n_frames, dims=dims, seed=seed,
                          names=("audio", "video")[:n_mods])
    keep = draw(st.lists(st.integers(0, fs.n_clips - 1), min_size=1, max_size=fs.n_clips, unique=True))
    fs = fs.subset(np.sort(keep))
    scale = draw(st.sampled_from([1.0, 1e-30, 1e30, -3.0]))
    fs.X *= np.float32(scale)
    return fs


@FUZZ
@given(featuresets(), st.sampled_from(["native", "A", "B"]), st.one_of(st.none(), st.integers(1, 6)))
def test_valid_files_read_back_exactly(fs, layout, max_frames):
    with tempfile.TemporaryDirectory() as d:
        target = Path(d) / ("f.h5" if layout == "native" else "root")
        write_features(target, {"train": fs}, layout=layout)
        got = read_features(target, "train", max_frames=max_frames)
    keep = {m: f if max_frames is None else min(f, max_frames) for m, f, _ in fs.modalities}
    assert got.modalities == tuple((m, keep[m], d) for m, _, d in fs.modalities)
    # Layouts A and B list clips in label order; native keeps the written order.
    order = {c: i for i, c in enumerate(fs.clip_ids)}
    rows = np.array([order[c] for c in got.clip_ids])
    assert sorted(rows.tolist()) == list(range(fs.n_clips))
    for m, _, d in fs.modalities:
        expected = fs.frames(m)[rows, :keep[m], :]
        np.testing.assert_array_equal(got.frames(m), expected)
    np.testing.assert_array_equal(got.y, fs.y[rows])
    np.testing.assert_array_equal(got.location, fs.location[rows])


# -- FramePooler against a numpy reference -----------------------------------------------------
@st.composite
def pooling_cases(draw):
    n = draw(st.integers(1, 7))
    f = draw(st.integers(1, 6))
    d = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    values = st.floats(-1e3, 1e3, allow_nan=False, width=32)
    X = np.array(draw(st.lists(values, min_size=n * f * d, max_size=n * f * d)), dtype=dtype).reshape(n, f * d)
    missing = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    X[np.array(missing, dtype=bool)] = np.nan  # a clip lacking this modality
    stats = tuple(draw(st.lists(st.sampled_from(POOLING_STATS), max_size=4)))
    quantiles = tuple(draw(st.lists(st.floats(0, 1), max_size=3)))
    assume(stats or quantiles)
    return X, f, stats, quantiles


def _reference(X, f, stats, quantiles):
    frames = X.astype(np.float64).reshape(X.shape[0], f, -1)
    funcs = {"mean": np.mean, "std": np.std, "max": np.max, "min": np.min}
    parts = [funcs[s](frames, axis=1) for s in stats] + [np.quantile(frames, q, axis=1) for q in quantiles]
    return np.concatenate(parts, axis=1)


@FUZZ
@given(pooling_cases())
def test_frame_pooler_matches_numpy(case):
    X, f, stats, quantiles = case
    pooler = FramePooler(n_frames=f, stats=stats, quantiles=quantiles).fit(X)
    out = pooler.transform(X)
    ref = _reference(X, f, stats, quantiles)
    assert out.shape == ref.shape == (X.shape[0], (X.shape[1] // f) * (len(stats) + len(quantiles)))
    assert out.dtype == X.dtype
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))  # NaN exactly for missing clips
    tol = 1e-3 if X.dtype == np.float32 else 1e-9
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol * (1 + np.nanmax(np.abs(X), initial=0)))
    assert len(pooler.get_feature_names_out()) == out.shape[1]


@FUZZ
@given(pooling_cases(), st.sampled_from([np.inf, -np.inf]), st.data())
def test_frame_pooler_refuses_inf(case, bad, data):
    X, f, stats, quantiles = case
    i = data.draw(st.integers(0, X.size - 1))
    X.flat[i] = bad
    pooler = FramePooler(n_frames=f, stats=stats, quantiles=quantiles).fit(X)
    with pytest.raises(ValueError, match="infinity"):
        pooler.transform(X)
