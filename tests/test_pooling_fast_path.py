"""FramePooler checks values on the pooled sums instead of a second pass over the frames."""

import numpy as np
import pytest

from avsc_sk._pooling import FramePooler


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
    X[520, 2] = np.nan
    out = FramePooler(n_frames=8).fit_transform(X)
    assert np.isnan(out[4]).all()
    assert np.isnan(out[520]).sum() == 1  # only the column whose frames held the NaN
    assert np.isfinite(np.delete(out, [4, 520], axis=0)).all()


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
