"""Prediction files, the reference scoring, bootstrap, McNemar and calibration."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, classification_report, f1_score, log_loss, precision_score

from avsc_sk.data import SCENES
from avsc_sk.errors import ConfigError, DataError, OutputExistsError
from avsc_sk.evaluation import (
    attach_labels,
    bootstrap_ci,
    brier_score,
    exact_log_loss,
    expected_calibration_error,
    format_scoring,
    mcnemar,
    paired_bootstrap_diff,
    per_class_table,
    prediction_frame,
    read_labels,
    read_prediction,
    reference_log_loss,
    reliability_table,
    score,
    write_prediction,
)

K = len(SCENES)


def _make(n=300, strength=1.5, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    logits = rng.normal(size=(n, K))
    logits[np.arange(n), y] += strength
    P = np.exp(logits)
    P /= P.sum(axis=1, keepdims=True)
    aids = [f"{SCENES[t]}-lyon-{i}-{i * 7}" for i, t in enumerate(y)]
    return aids, y, P


def _reference_scoring(y_idx, p_idx, P_printed):
    """The course baseline's eval script, re-expressed with the scikit-learn of its time (clip, renormalise)."""
    rep = classification_report(y_idx, p_idx, target_names=list(SCENES), zero_division=0)
    Q = np.clip(P_printed, 1e-15, 1 - 1e-15)
    Q = Q / Q.sum(axis=1, keepdims=True)
    return (rep + "\n  \n" + f"accuracy: {accuracy_score(y_idx, p_idx):.3f}\n"
            + f"overall log loss: {log_loss(y_idx, Q, labels=range(K)):.3f}\n")


def test_prediction_frame_has_the_run_classes_as_columns():
    # The classes given (a run's classes_) are the columns, in their order; no scene list is assumed.
    P = np.array([[0.2, 0.8], [0.6, 0.4]])
    f = prediction_frame(["a-b-1-1", "a-b-1-2"], P, ["tram", "bus"], y_true=["bus", "beach"])
    assert list(f.columns) == ["aid", "scene_pred", "scene_label", "tram", "bus"]
    assert f["scene_pred"].tolist() == ["bus", "tram"]
    assert f["bus"].tolist() == [0.8, 0.4] and f["tram"].tolist() == [0.2, 0.6]
    with pytest.raises(DataError, match="'aid' is a fixed column"):
        prediction_frame(["x"], [[1.0]], ["aid"])
    with pytest.raises(DataError, match="duplicate class"):
        prediction_frame(["x"], [[0.5, 0.5]], ["cat", "cat"])
    with pytest.raises(DataError, match="do not match"):
        prediction_frame(["x", "y"], [[1.0]], ["bus"])


def test_write_read_roundtrip_exact_format(tmp_path):
    aids, y, P = _make(20)
    f = prediction_frame(aids, P, SCENES, np.array(SCENES)[y])
    path = write_prediction(tmp_path / "prediction.csv", f)
    lines = path.read_text().splitlines()
    assert lines[0].split("\t") == ["aid", "scene_pred", "scene_label", *SCENES]
    first = lines[1].split("\t")
    assert first[0] == aids[0] and first[3] == "%.3f" % P[0, 0]
    assert not any(ln.startswith("#") for ln in lines)
    back = read_prediction(path)
    assert back["aid"].tolist() == aids
    assert back["scene_label"].tolist() == list(np.array(SCENES)[y])
    np.testing.assert_allclose(back[list(SCENES)].to_numpy(), np.round(P, 3), atol=5e-4 + 1e-12)
    with pytest.raises(OutputExistsError):
        write_prediction(path, f)
    write_prediction(path, f, force=True, header_comment="synthetic data\nmodel: x")
    assert path.read_text().startswith("# synthetic data\n# model: x\naid\t")
    assert read_prediction(path)["aid"].tolist() == aids
    # read back the way the reference scripts do
    ref = pd.read_csv(tmp_path / "prediction.csv", sep="\t", comment="#")
    assert list(ref.columns) == ["aid", "scene_pred", "scene_label", *SCENES]


@pytest.mark.parametrize("mutate, match", [
    (lambda t: t.replace("\t", ","), "comma-separated"),
    (lambda t: "\n".join("\t".join(ln.split("\t")[:3]) for ln in t.splitlines()), "no class columns"),
    (lambda t: t.replace("\taid\t", "\tclip\t").replace("aid\t", "clip\t", 1), "missing column.*aid"),
])
def test_read_prediction_errors(tmp_path, mutate, match):
    aids, y, P = _make(5)
    path = write_prediction(tmp_path / "p.csv", prediction_frame(aids, P, SCENES, np.array(SCENES)[y]))
    bad = tmp_path / "bad.csv"
    bad.write_text(mutate(path.read_text()))
    with pytest.raises(DataError, match=match):
        read_prediction(bad)


def test_read_prediction_rejects_probability_above_one(tmp_path):
    aids, y, P = _make(3)
    path = write_prediction(tmp_path / "p.csv", prediction_frame(aids, P, SCENES))
    lines = path.read_text().splitlines()
    row = lines[2].split("\t")
    row[2] = "1.500"
    path.write_text("\n".join([*lines[:2], "\t".join(row), *lines[3:]]) + "\n")
    with pytest.raises(DataError, match=rf"'1.500' for airport of clip '{aids[1]}' is not a number in \[0, 1\]"):
        read_prediction(path)


def test_read_prediction_unknown_scene_and_nan(tmp_path):
    aids, y, P = _make(5)
    path = write_prediction(tmp_path / "p.csv", prediction_frame(aids, P, SCENES))
    lines = path.read_text().splitlines()
    row = lines[1].split("\t")
    row[1] = "beach"
    (tmp_path / "a.csv").write_text("\n".join([lines[0], "\t".join(row), *lines[2:]]) + "\n")
    with pytest.raises(DataError, match=r"a\.csv: column scene_pred holds unknown class 'beach'.*class columns"):
        read_prediction(tmp_path / "a.csv")
    row = lines[1].split("\t")
    row[5] = "nan"
    (tmp_path / "b.csv").write_text("\n".join([lines[0], "\t".join(row), *lines[2:]]) + "\n")
    with pytest.raises(DataError, match="'nan' for metro_station"):
        read_prediction(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text(lines[0] + "\n")
    with pytest.raises(DataError, match="no predictions"):
        read_prediction(tmp_path / "c.csv")


def test_read_labels_fold1_and_prediction(tmp_path):
    labels = read_labels("avsc_sk/datasets/_meta/fold1_evaluate.csv")
    assert len(labels) == 3645 and labels.index.name == "aid"
    assert labels.value_counts()["street_pedestrian"] == 421
    stem = labels.index[0]
    assert "/" not in stem and not stem.endswith(".wav") and labels[stem] == stem.split("-")[0]
    with pytest.raises(DataError, match="no scene_label column"):
        read_labels("avsc_sk/datasets/_meta/fold1_test.csv")
    aids, y, P = _make(5)
    path = write_prediction(tmp_path / "p.csv", prediction_frame(aids, P, SCENES, np.array(SCENES)[y]))
    assert read_labels(path).tolist() == list(np.array(SCENES)[y])
    f = prediction_frame(aids + ["bus-x-1-1"], np.vstack([P, P[:1]]), SCENES)
    with pytest.raises(DataError, match="1 of 6 predicted clips have no label.*'bus-x-1-1'"):
        attach_labels(f, read_labels(path))


def test_format_scoring_equals_reference_script(tmp_path):
    aids, y, P = _make(400, strength=1.0, seed=3)
    path = write_prediction(tmp_path / "p.csv", prediction_frame(aids, P, SCENES, np.array(SCENES)[y]))
    frame = read_prediction(path)
    printed = pd.read_csv(path, sep="\t")[list(SCENES)].to_numpy()
    p_idx = np.array([SCENES.index(s) for s in frame["scene_pred"]])
    expected = _reference_scoring(y, p_idx, printed)
    assert format_scoring(None, frame) == expected
    # in-memory frame (unrounded) gives the same text: probabilities are rounded as printed
    assert format_scoring(np.array(SCENES)[y], prediction_frame(aids, P, SCENES)) == expected
    assert format_scoring(y, P).splitlines()[-2] == expected.splitlines()[-2]


def test_score_and_table_match_sklearn():
    aids, y, P = _make(500, seed=1)
    names = np.array(SCENES)
    pred = P.argmax(1)
    s = score(names[y], P)
    assert s["accuracy"] == pytest.approx(accuracy_score(y, pred))
    f1 = f1_score(y, pred, average=None, labels=range(K))
    for k, scene in enumerate(SCENES):
        assert s[scene]["f1-score"] == pytest.approx(f1[k])
        assert s[scene]["support"] == int(np.sum(y == k))
    assert s["macro avg"]["precision"] == pytest.approx(precision_score(y, pred, average="macro"))
    Q = np.round(P, 3)
    Q = np.clip(Q, 1e-15, 1 - 1e-15)
    Q /= Q.sum(1, keepdims=True)
    assert s["log_loss_ref3"] == pytest.approx(log_loss(y, Q), rel=1e-12)
    assert s["log_loss"] == pytest.approx(log_loss(names[y], P, labels=list(SCENES)), rel=1e-12)
    assert exact_log_loss(y, P) == s["log_loss"]
    assert reference_log_loss(y, P, decimals=None) == pytest.approx(log_loss(y, P), rel=1e-12)
    table = per_class_table(names[y], P)
    assert list(table.index) == [*SCENES, "accuracy", "macro avg", "weighted avg", "overall log loss"]
    assert table.loc["accuracy", "f1-score"] == pytest.approx(s["accuracy"])
    # the reference layout's figure is the reference log loss
    assert table.loc["overall log loss", "f1-score"] == pytest.approx(s["log_loss_ref3"])
    assert table.loc["tram", "recall"] == pytest.approx(s["tram"]["recall"])


def test_reference_log_loss_renormalises_printed_zeros():
    # a printed 0.000 for the true class: clipped to 1e-15, not -inf, and rows renormalised
    P = np.array([[0.0, 1.0] + [0.0] * 8, [0.5, 0.5] + [0.0] * 8])
    loss = reference_log_loss([0, 0], P)
    assert loss == pytest.approx((-np.log(1e-15 / (1 + 9e-15)) - np.log(0.5 / (1 + 8e-15))) / 2)


def test_exact_and_reference_log_loss_differ_on_a_tiny_probability(tmp_path):
    # The true scene of clip 0 gets 0.0004: exact, -log(0.0004) = 7.82; printed %.3f it is read
    # as 0.000, clipped to 1e-15: 34.5. Clip 1 (0.7) loses nothing to rounding but renormalising.
    P = np.zeros((2, K))
    P[0, :2] = [0.9996, 0.0004]
    P[1, :3] = [0.7, 0.2, 0.1]
    y = np.array(["bus", "airport"], dtype=object)
    s = score(y, P, classes=list(SCENES))  # the label space is the data's: name the ten columns
    exact = (-np.log(0.0004) - np.log(0.7)) / 2
    assert s["log_loss"] == pytest.approx(exact, rel=1e-12)
    assert s["log_loss"] == pytest.approx(log_loss(y, P, labels=list(SCENES)), rel=1e-12)
    # printed: row 0 reads 1.000, 0.000 -> clipped 1e-15, renormalised
    ref = (-np.log(1e-15 / (1 + 9e-15)) - np.log(0.7 / (1 + 7e-15))) / 2
    assert s["log_loss_ref3"] == pytest.approx(ref, rel=1e-9)
    assert s["log_loss_ref3"] - s["log_loss"] > 13
    # what a 3-decimal prediction file gives back is the reference figure, not the exact one
    frame = prediction_frame(["bus-lyon-1-1", "airport-lyon-2-2"], P, SCENES, y_true=y)
    write_prediction(tmp_path / "p3.csv", frame)
    back = read_prediction(tmp_path / "p3.csv")
    assert back.attrs["decimals"] == 3
    assert exact_log_loss(None, back) == pytest.approx(-np.log(np.finfo(float).eps) / 2 - np.log(0.7) / 2)
    assert reference_log_loss(None, back, decimals=None) == pytest.approx(s["log_loss_ref3"], rel=1e-12)
    # six decimals keep the 0.0004
    write_prediction(tmp_path / "p6.csv", frame, decimals=6)
    back6 = read_prediction(tmp_path / "p6.csv")
    assert back6.attrs["decimals"] == 6
    assert "\t0.000400\t" in (tmp_path / "p6.csv").read_text()
    assert reference_log_loss(None, back6, decimals=None) == pytest.approx(exact, rel=1e-9)
    for bad in (0, 18, 2.5):
        with pytest.raises(ConfigError, match="decimals"):
            write_prediction(tmp_path / "bad.csv", frame, decimals=bad)


def test_bootstrap_ci_covers():
    # Its speed is measured by the benchmark, not asserted here: a loaded machine is not a bug.
    aids, y, P = _make(3645, seed=2)
    acc = bootstrap_ci(y, P, "accuracy", n_boot=1000, seed=0)
    ll = bootstrap_ci(y, P, "log_loss", n_boot=1000, seed=0)
    assert acc["low"] < acc["estimate"] < acc["high"]
    assert acc["estimate"] == pytest.approx(accuracy_score(y, P.argmax(1)))
    # binomial standard error of an accuracy
    se = np.sqrt(acc["estimate"] * (1 - acc["estimate"]) / 3645)
    assert acc["std"] == pytest.approx(se, rel=0.15)
    assert ll["estimate"] == pytest.approx(log_loss(y, P, labels=range(K)), rel=1e-12)
    ref = bootstrap_ci(y, P, "log_loss_ref3", n_boot=1000, seed=0)
    assert ref["estimate"] == pytest.approx(reference_log_loss(y, P))
    assert ref["low"] < ref["estimate"] < ref["high"]
    assert bootstrap_ci(y, P, "accuracy", n_boot=200, seed=5) == bootstrap_ci(y, P, "accuracy", n_boot=200, seed=5)
    slow = bootstrap_ci(y[:200], P[:200], lambda t, p, _: np.mean(t == p), n_boot=50, seed=0)
    assert slow["estimate"] == pytest.approx(accuracy_score(y[:200], P[:200].argmax(1)))


def test_paired_bootstrap_flags_only_the_changed_class():
    rng = np.random.default_rng(7)
    n = 2000
    y = rng.integers(0, K, n)
    pred_b = y.copy()
    wrong = rng.random(n) < 0.3
    pred_b[wrong] = (y[wrong] + 1 + rng.integers(0, K - 1, wrong.sum())) % K
    pred_a = pred_b.copy()
    bus = (y == 1) & (pred_b != 1)
    pred_a[bus] = 1  # run A fixes every bus error; nothing else changes
    onehot = lambda p: np.eye(K)[p] * 0.9 + 0.01  # noqa: E731
    d = paired_bootstrap_diff(y, onehot(pred_a), onehot(pred_b), n_boot=500, seed=0, classes=SCENES)
    recall = d[d.metric == "recall"].set_index("scene")
    assert recall.loc["bus", "significant"] and recall.loc["bus", "diff"] > 0.2
    assert recall.loc["bus", "diff"] == pytest.approx(
        np.mean(pred_a[y == 1] == 1) - np.mean(pred_b[y == 1] == 1))
    assert not recall.drop(index="bus")["significant"].any()
    assert (recall.drop(index="bus")["diff"] == 0).all()
    f1 = d[d.metric == "f1-score"].set_index("scene")
    assert f1.loc["bus", "a"] == pytest.approx(f1_score(y, pred_a, labels=[1], average=None)[0])
    acc = d[(d.scene == "all") & (d.metric == "accuracy")].iloc[0]
    assert acc["significant"] and acc["p_value"] < 0.01


def test_mcnemar_exact_and_chi2():
    a = np.array([1] * 10 + [0] * 2 + [1] * 50, bool)
    b = np.array([0] * 10 + [1] * 2 + [1] * 50, bool)
    r = mcnemar(a, b)
    assert r["method"] == "exact" and (r["n_a_only"], r["n_b_only"]) == (10, 2)
    assert r["p_value"] == pytest.approx(stats.binomtest(2, 12, 0.5).pvalue)
    a = np.array([1] * 40 + [0] * 20, bool)
    b = np.array([0] * 40 + [1] * 20, bool)
    r = mcnemar(a, b)
    assert r["method"] == "chi2" and r["statistic"] == pytest.approx((20 - 1) ** 2 / 60)
    assert r["p_value"] == pytest.approx(stats.chi2.sf((20 - 1) ** 2 / 60, 1))
    assert mcnemar([1, 0], [1, 0])["p_value"] == 1.0


def test_calibration():
    # perfectly calibrated by construction: confidence 0.7, right 70% of the time
    n = 1000
    y = np.zeros(n, int)
    P = np.full((n, K), 0.3 / (K - 1))
    P[:700, 0] = 0.7
    P[700:, 1] = 0.7
    P[700:, 0] = 0.3 / (K - 1)
    assert expected_calibration_error(y, P) == pytest.approx(0.0, abs=1e-12)
    table = reliability_table(y, P, n_bins=10)
    assert table["count"].sum() == n and table.loc[6, "count"] == n
    assert table.loc[6, "accuracy"] == pytest.approx(0.7)
    # overconfident: always 1.0 but right half the time
    P2 = np.eye(K)[np.r_[np.zeros(500, int), np.ones(500, int)]]
    assert expected_calibration_error(y, P2) == pytest.approx(0.5)
    assert brier_score(y, P2) == pytest.approx(1.0)
