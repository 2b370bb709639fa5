"""FramePooler checks values on the pooled sums instead of a second pass over the frames."""

import numpy as np
import pytest

from avsc_sk._pooling import FramePooler
from avsc_sk.errors import DataError


def _frames(n=600, n_frames=8, d=5):
    # 600 rows span two internal chunks of 512, so the per-chunk check is exercised twice.
    return np.random.default_rng(0).random((n, n_frames * d), dtype=np.float32) * 3


def test_mean_is_bitwise_numpy_mean():
    X = _frames()
    out = FramePooler(n_frames=8, stats=("mean", "std", "max")).fit_transform(X)
    f = X.reshape(600, 8, 5)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.hstack([f.mean(axis=1), f.std(axis=1), f.max(axis=1)]))


@pytest.mark.parametrize("stats", [("mean",), ("std",), ("max", "min")])
@pytest.mark.parametrize("row", [3, 550])
def test_inf_raises_whatever_the_statistics(stats, row):
    X = _frames()
    X[row, 7] = np.inf
    X[10] = np.nan  # a missing modality in the same chunk must not hide the inf
    pooler = FramePooler(n_frames=8, stats=stats).fit(X)  # fit does not read values
    with pytest.raises(ValueError, match="infinity"):
        pooler.transform(X)


def test_nan_rows_pool_to_nan_without_error():
    X = _frames()
    X[4] = np.nan
    X[520] = np.nan
    out = FramePooler(n_frames=8, stats=("mean", "std", "max", "min"), quantiles=(0.5,)).fit_transform(X)
    assert np.isnan(out[[4, 520]]).all()
    assert np.isfinite(np.delete(out, [4, 520], axis=0)).all()


@pytest.mark.parametrize("row", [3, 520])
def test_part_nan_rows_are_refused_not_taken_for_missing(row):
    # Issue 10 item 13: a clip NaN in only some values used to pool to NaN in those columns and
    # be imputed silently; the file readers refuse it, and so does the pooler now.
    X = _frames()
    X[row, 2] = np.nan
    X[10] = np.nan  # a whole missing block is still fine
    with pytest.raises(DataError, match=f"row {row}: NaN or infinity in part of the frames"):
        FramePooler(n_frames=8).fit_transform(X)
    pooled = FramePooler(n_frames=8, stats=("mean", "max")).fit_transform(_frames())
    pooled[row, 1] = np.nan
    with pytest.raises(DataError, match=f"row {row}: NaN or infinity"):
        FramePooler(stats=("max",), input_stats=("mean", "max")).fit_transform(pooled)


def test_segments_match_the_hstack_layout():
    from avsc_sk._pooling import SegmentClassifier

    X = np.random.default_rng(1).random((7, 12 * 3 + 12 * 2), dtype=np.float32)
    sc = SegmentClassifier(modalities=(("audio", 12, 3), ("video", 12, 2)), segment_frames=4)
    got, n_seg = sc._segments(X)
    # Segment k of clip i: audio frames 4k..4k+3, then video frames 4k..4k+3.
    expected = np.hstack([X[:, :36].reshape(21, 12), X[:, 36:].reshape(21, 8)])
    assert n_seg == 3 and got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got[4], np.concatenate([X[1, 12:24], X[1, 36 + 8:36 + 16]]))


def test_pickle_round_trip_with_missing_blocks():
    # What the common pickle check would test, with NaN where these estimators take it: whole blocks.
    import pickle

    from sklearn.compose import ColumnTransformer

    from avsc_sk.fusion import IntermediateFusionClassifier, LateFusionClassifier, make_modality_pipeline

    rng = np.random.default_rng(3)
    X = rng.random((60, 2 * 4 + 2 * 3), dtype=np.float32)
    y = np.repeat(["a", "b", "c"], 20)
    X[::7, :8] = np.nan  # audio missing
    X[3::10, 8:] = np.nan  # video missing (never with audio: 3 + 10k is no multiple of 7 below 60)
    mods = (("audio", 2, 4), ("video", 2, 3))
    pooler = ColumnTransformer([("audio", FramePooler(n_frames=2, stats=("mean", "max")), slice(0, 8)),
                                ("video", FramePooler(n_frames=2), slice(8, 14))])
    for est in (FramePooler(n_frames=2).fit(X[:, :8]),
                LateFusionClassifier([("audio", make_modality_pipeline()), ("video", make_modality_pipeline())],
                                     pooler=pooler, cv=2).fit(X, y),
                IntermediateFusionClassifier(modalities=mods, hidden=8, embed=4, shared=4, max_epochs=3,
                                             validation_fraction=0.0, random_state=0).fit(X, y)):
        again = pickle.loads(pickle.dumps(est))
        if hasattr(est, "predict_proba"):
            np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
        else:
            np.testing.assert_array_equal(again.transform(X[:, :8]), est.transform(X[:, :8]))


@pytest.mark.parametrize("fusion", ["audio", "early", "weighted", "intermediate"])
def test_make_estimator_takes_a_pooled_featureset(fusion):
    # Given the FeatureSet, make_estimator pools (selects) as the data were read; the same
    # statistics from frames give the same predictions.
    from conftest import small_featureset

    from avsc_sk import make_estimator

    frames = small_featureset("train", n_frames=5)
    pooled = frames.pool(("max", "mean"))
    key = {"weighted": "pooler__audio__stats", "intermediate": "stats"}.get(fusion, "features__audio__pool__stats")
    params = {key: ("mean", "max")}
    fit = {"groups": frames.groups} if fusion in ("weighted", "intermediate") else {}
    if fit:  # small_featureset records each scene at one location: grouped internal folds are refused
        params["cv_groups"] = "none"
    if fusion != "intermediate":  # the heads' C given: their choosing is not what is tested here
        params.update(dict.fromkeys(("audio__head__C", "video__head__C") if fusion == "weighted" else ("head__C",), 1.0))
    a = make_estimator(fusion, pooled).set_params(**params).fit(pooled.X, pooled.y, **fit)
    b = make_estimator(fusion, frames.modalities).set_params(**params).fit(frames.X, frames.y, **fit)
    np.testing.assert_allclose(a.predict_proba(pooled.X), b.predict_proba(frames.X), rtol=1e-4, atol=1e-6)
    with pytest.raises(DataError, match=r"statistic\(s\) \['std'\] were not computed while reading"):
        make_estimator(fusion, pooled).set_params(**{key: ("std",)}).fit(pooled.X, pooled.y, **fit)
