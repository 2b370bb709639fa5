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
