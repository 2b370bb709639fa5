"""Conformal prediction sets (issue 21): the guarantee on data where it is known, calibration that never
scores a clip with a model that trained on it (or on its location), and the commands end to end."""

import json

import numpy as np
import pandas as pd
import pytest

from avsc_sk.evaluation import (calibration_record, conformal_quantile, coverage_table, prediction_sets,
                                read_prediction)
from avsc_sk.experiments import _conformal, calibration_probabilities

from conftest import small_featureset


def _exchangeable(n, K=6, seed=0):
    """Probabilities from a fixed (miscalibrated) model, labels drawn from a tempered version of them:
    calibration and test clips are i.i.d., so split-conformal coverage is exactly known."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, K))
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = np.exp(0.6 * logits)
    truth /= truth.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(K, p=p) for p in truth])
    classes = [f"c{k}" for k in range(K)]
    return P, np.asarray(classes, dtype=object)[y], classes


@pytest.mark.parametrize("by", ["all", "class"])
def test_coverage_on_exchangeable_data_is_within_binomial_tolerance(by):
    P, y, classes = _exchangeable(22000)
    cal, test = slice(0, 2000), slice(2000, None)
    record = calibration_record(P[cal], y[cal], classes)
    for level in (0.8, 0.9):
        sets = prediction_sets(P[test], classes, record, level, by=by)
        table = coverage_table(y[test], sets, classes)
        n = len(y[test])
        # Marginal over calibration draws: E[coverage] in [level, level + 1/(n_cal + 1)]; the test
        # share adds binomial noise, and the calibration draw a spread of about sqrt(l(1-l)/n_cal).
        tol = 3 * np.sqrt(level * (1 - level) / n) + 3 * np.sqrt(level * (1 - level) / 2000)
        assert level - tol <= table.loc["all", "coverage"] <= level + 1 / 2001 + tol
        if by == "class":  # Mondrian: every class separately (about 330 calibration clips each)
            per = table.drop(index="all")
            sd = np.sqrt(level * (1 - level) / per["n_clips"]) + np.sqrt(level * (1 - level) / 300)
            assert (per["coverage"] >= level - 3 * sd).all()
    # Exact sets (the default) may be empty; non_empty fills exactly those with the most probable class.
    exact = prediction_sets(P[test][:200], classes, record, 0.5, by=by)
    filled = prediction_sets(P[test][:200], classes, record, 0.5, by=by, non_empty=True)
    assert any(len(s) == 0 for s in exact)
    for e, f, p in zip(exact, filled, P[test][:200]):
        top = classes[int(np.argmax(p))]
        assert f == (e if e else [top])
        assert not e or e[0] == top  # most probable first


def test_conformal_quantile_is_the_finite_sample_rank():
    scores = np.arange(1, 10) / 10.0  # n = 9
    assert conformal_quantile(scores, 0.9) == pytest.approx(0.9)  # ceil(10 * 0.9) = 9th
    assert conformal_quantile(scores, 0.5) == pytest.approx(0.5)  # ceil(5) = 5th
    assert conformal_quantile(scores, 0.95) == np.inf  # rank 10 > n: every class


@pytest.mark.parametrize("fusion", ["early", "weighted"])
def test_calibration_never_scores_a_clip_with_a_model_that_trained_on_it(fusion, monkeypatch):
    from avsc_sk.fusion import make_estimator
    from avsc_sk.heads import fit_with_groups

    train = small_featureset("train")
    params = {"head__C": 1.0} if fusion == "early" else {"audio__head__C": 1.0, "video__head__C": 1.0, "cv": 3}
    model = fit_with_groups(make_estimator(fusion, train).set_params(**params), train.X, train.y, train.groups)
    fitted_on = []
    original = _conformal.fold_proba

    def spy(name, estimator, Z, y, tr, te, *args):
        fitted_on.append((np.asarray(tr), np.asarray(te)))
        return original(name, estimator, Z, y, tr, te, *args)

    monkeypatch.setattr(_conformal, "fold_proba", spy)
    proba, info = calibration_probabilities(model, train.X, train.y, train.groups, cv=4, random_state=0)
    assert len(fitted_on) == info["folds"] == 4
    scored = np.concatenate([te for _, te in fitted_on])
    assert sorted(scored) == list(range(train.n_clips))  # every clip scored exactly once
    for tr, te in fitted_on:
        assert not set(tr) & set(te)  # never by a model that trained on it ...
        assert not set(train.groups[tr]) & set(train.groups[te])  # ... nor on its recording location
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1)
    # A fold's clips get exactly what a clone, trained on the fold's training clips only, predicts.
    tr, te = fitted_on[0]
    from avsc_sk.fusion import fixed_member

    clone = fit_with_groups(fixed_member(model, model), train.X[tr], train.y[tr], train.groups[tr])
    np.testing.assert_allclose(proba[te], clone.predict_proba(train.X[te]), atol=1e-10)


def _cli(capsys, *argv):
    from avsc_sk.cli import main

    capsys.readouterr()
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    from avsc_sk.data import write_features

    sets = {"train": small_featureset("train"), "test": small_featureset("test", n_per_class=6)}
    return write_features(tmp_path_factory.mktemp("conformal") / "features.h5", sets)


def test_predict_evaluate_report_compare_with_coverage(features, tmp_path, capsys):
    runs = {}
    for fusion in ("early", "audio", "video"):  # every mode is in the product matrix (test_product.py)
        pins = ["--set", "params.head__C=1"]
        runs[fusion] = tmp_path / fusion
        code, out, err = _cli(capsys, "fit", "--fusion", fusion, "--features", features, *pins, "--calibrate",
                              "--out", runs[fusion])
        assert code == 0, err
        assert "prediction sets calibrated on 120 out-of-fold training clips" in out
    manifest = json.loads((runs["early"] / "manifest.json").read_text())
    assert manifest["calibration"]["n_clips"] == 120 and manifest["calibration"]["grouped"]
    assert "scores" not in manifest["calibration"]  # one float per clip: in a compact file of their own
    scores = json.loads((runs["early"] / "calibration.json").read_text())
    assert sum(map(len, scores.values())) == 120 and all(0 <= v <= 1 for s in scores.values() for v in s)

    pred = tmp_path / "p.csv"
    code, out, err = _cli(capsys, "predict", runs["early"], "--features", features, "--coverage", "0.9",
                          "--coverage-by", "class", "--out", pred)
    assert code == 0, err
    assert "prediction sets at coverage 0.9 per scene (Mondrian): mean size" in out
    header = pred.read_text().splitlines()[0].split("\t")
    assert header[-1] == "prediction_set"
    frame = read_prediction(pred)
    assert "prediction_set" not in frame.columns[3:-1]  # not a class column
    proba = frame[[c for c in frame.columns if c not in ("aid", "scene_pred", "scene_label", "prediction_set")]]
    for text, p in zip(frame["prediction_set"], proba.to_numpy()):
        scenes = text.split("|")
        assert scenes[0] == proba.columns[int(np.argmax(p))] and len(set(scenes)) == len(scenes)
    code, out, err = _cli(capsys, "evaluate", "--prediction", pred)
    assert code == 0, err
    hits = np.mean([t in s.split("|") for t, s in zip(frame["scene_label"], frame["prediction_set"])])
    assert f"prediction sets: empirical coverage {hits:.3f}" in out and "mean set size" in out

    # At 0.5 the exact sets of a model right on most clips are often empty: they survive the file as
    # empty fields (size 0, never a hit), and --non-empty fills exactly those with the top scene.
    exact, filled = tmp_path / "exact.csv", tmp_path / "filled.csv"
    code, out, err = _cli(capsys, "predict", runs["early"], "--features", features, "--coverage", "0.5",
                          "--out", exact)
    assert code == 0, err
    n_empty = int(out.split(" empty (no scene sure enough)")[0].rsplit(", ", 1)[1])
    code, out, err = _cli(capsys, "predict", runs["early"], "--features", features, "--coverage", "0.5",
                          "--non-empty", "--out", filled)
    assert code == 0, err
    assert "prediction sets at coverage 0.5: mean size" in out and "empty (no scene" not in out
    a, b = read_prediction(exact), read_prediction(filled)
    assert n_empty == int((a["prediction_set"] == "").sum()) > 0
    assert ((b["prediction_set"] == a["prediction_set"]) | (a["prediction_set"] == "")).all()
    assert (b.loc[a["prediction_set"] == "", "prediction_set"] == b.loc[a["prediction_set"] == "", "scene_pred"]).all()
    covered = {}
    for name, f in (("exact", exact), ("filled", filled)):
        code, out, err = _cli(capsys, "evaluate", "--prediction", f)
        assert code == 0, err
        covered[name] = float(out.split("prediction sets: empirical coverage ")[1].split()[0])
        assert f"empty {n_empty / len(a) if name == 'exact' else 0:.3f}" in out
    truth = a["scene_label"].to_numpy()
    assert covered["exact"] == pytest.approx(np.mean([t in s.split("|") for t, s in
                                                      zip(truth, a["prediction_set"]) if s] + [False] * n_empty),
                                             abs=5e-4)
    assert covered["filled"] >= covered["exact"]
    mondrian = tmp_path / "mondrian.csv"
    code, out, err = _cli(capsys, "predict", runs["early"], "--features", features, "--coverage", "0.5",
                          "--coverage-by", "class", "--non-empty", "--out", mondrian)
    assert code == 0, err
    assert (read_prediction(mondrian)["prediction_set"] != "").all()

    rep = tmp_path / "report"
    code, out, err = _cli(capsys, "report", runs["early"], runs["audio"], runs["video"], "--features", features,
                          "--n-boot", "20", "--out", rep)
    assert code == 0, err
    assert "prediction sets at 0.9" in out
    coverage = pd.read_csv(rep / "coverage.csv")
    assert set(coverage["run"]) == {"early", "audio", "video"} and set(coverage["nominal"]) == {0.8, 0.9, 0.95}
    assert (rep / "set_sizes.png").exists() and (rep / "set_sizes.csv").exists()
    browser = pd.read_csv(rep / "conflict_browser.csv")
    conflicts = pd.read_csv(rep / "conflicts.csv").set_index("scene")
    assert len(browser) == conflicts.loc["all", "disagree"]
    page = (rep / "report.html").read_text()
    assert page.count('<tr data-scene="') == len(browser) and "script-src 'sha256-" in page
    numbers = json.loads((rep / "report.json").read_text())
    assert numbers["prediction_sets"]["browser"]["n_rows"] == len(browser)

    cmp = tmp_path / "cmp"
    code, out, err = _cli(capsys, "compare", "--features", features, "--fusions", "audio,early", "--n-boot", "20",
                          "--out", cmp)
    assert code == 0, err
    table = pd.read_csv(cmp / "compare.csv")
    assert table["mean_set_size"].between(0, 10).all() and (table["coverage"] == 0.9).all()
    assert "set size at 0.9" in (cmp / "compare.md").read_text()


@pytest.mark.parametrize("argv, message", [
    (["--coverage", "1.5"], "coverage '1.5': expected a probability strictly between 0 and 1"),
    (["--coverage", "0"], "coverage '0': expected a probability strictly between 0 and 1"),
    (["--coverage", "abc"], "coverage 'abc': expected a probability"),
    (["--coverage", "0.9", "--coverage-by", "scene"], "coverage-by 'scene': expected 'all'"),
    (["--coverage-by", "class"], "--coverage-by class needs --coverage C"),
    (["--non-empty"], "--non-empty needs --coverage C"),
])
def test_bad_coverage_is_one_error_line(argv, message, tmp_path, capsys):
    code, _, err = _cli(capsys, "predict", tmp_path / "no-run", *argv, "--out", tmp_path / "p.csv")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("avsc-sk: error: ") and message in err


def test_predict_coverage_refuses_an_uncalibrated_run(features, tmp_path, capsys):
    run = tmp_path / "run"
    code, _, err = _cli(capsys, "fit", "--fusion", "audio", "--features", features, "--set", "params.head__C=1",
                        "--out", run)
    assert code == 0, err
    code, _, err = _cli(capsys, "predict", run, "--features", features, "--coverage", "0.9", "--out", tmp_path / "p")
    assert code == 2 and "holds no calibration" in err and err.count("\n") == 1


def test_browser_renders_in_headless_chromium(tmp_path):
    from test_report import _chromium_console

    from avsc_sk.evaluation import prediction_frame
    from avsc_sk.report import build_report, write_report

    test = small_featureset("test", n_per_class=6)
    rng = np.random.default_rng(0)
    classes = list(test.classes)
    frames, calibration = {}, {}
    for name in ("early", "audio", "video"):
        P = rng.dirichlet(np.ones(len(classes)), size=test.n_clips)
        frames[name] = prediction_frame(test.clip_ids, P, classes, test.y)
        cal = rng.dirichlet(np.ones(len(classes)), size=200)
        calibration[name] = calibration_record(cal, rng.choice(classes, size=200), classes)
    report = build_report(frames, n_boot=20, synthetic=True, calibration=calibration)
    write_report(report, tmp_path / "rep")
    n = len(report.tables["conflict_browser"])
    assert n == report.tables["conflicts"].loc["all", "disagree"] > 0
    dom, errors = _chromium_console(tmp_path / "rep" / "report.html", tmp_path)
    assert errors == []
    assert "Conflict browser" in dom and f"{n} of {n} clips shown" in dom  # the inline script ran


def test_browser_names_an_empty_set():
    from avsc_sk.report import browser_html

    table = pd.DataFrame({"aid": ["a", "b"], "scene_label": ["park", "bus"], "audio_pred": ["park", "tram"],
                          "audio_p": [0.5, 0.4], "video_pred": ["bus", "bus"], "video_p": [0.6, 0.7],
                          "prediction_set": ["park|bus", ""], "set_size": [2, 0]})
    page = browser_html(table, ["bus", "park"])
    assert page.count("(empty: no scene sure enough)") == 1 and "<td>park|bus</td>" in page
