"""Issue 14 item 5 (exact log loss beside the reference one), issue 12 item 4 (--n-jobs), tune's training split."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, log_loss

from avsc_sk.cli import main
from avsc_sk.data import SCENES, write_features
from avsc_sk.evaluation import read_prediction, reference_log_loss

from conftest import small_featureset


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    base = tmp_path_factory.mktemp("logloss")
    sets = {"train": small_featureset("train", n_per_class=6), "val": small_featureset("val", n_per_class=3),
            "test": small_featureset("test", n_per_class=4)}
    return write_features(base / "features.h5", sets)


@pytest.fixture(scope="module")
def early_run(native, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "early"
    assert main(["fit", "--features", str(native), "--params.head__C", "10", "--out", str(run)]) == 0
    return run


def _exact_and_ref(frame):
    P = frame[list(SCENES)].to_numpy()
    return log_loss(frame["scene_label"], P, labels=list(SCENES)), reference_log_loss(None, frame)


# -- the manifest, fit, predict --decimals and evaluate -------------------------------------------
# float32 models give rows summing to 1 within 1e-7, which sklearn's log_loss warns of (and uses as they are)
@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
def test_fit_prints_and_records_both_log_losses(native, early_run, tmp_path, capsys):
    from avsc_sk.data import read_features
    from avsc_sk.runs import load_run, predict_frame, run_stats

    scores = json.loads((early_run / "manifest.json").read_text())["scores"]
    run = load_run(early_run)
    frame = predict_frame(run, read_features(native, "test", stats=run_stats(run.manifest)))
    exact, ref = _exact_and_ref(frame)
    assert scores["log_loss"] == pytest.approx(exact, rel=1e-12)
    assert scores["log_loss_ref3"] == pytest.approx(ref, rel=1e-12)
    assert scores["log_loss"] != scores["log_loss_ref3"]  # C=10 is confident: rounding costs something
    assert main(["fit", "--features", str(native), "--params.head__C", "10", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    accuracy = accuracy_score(frame["scene_label"], frame["scene_pred"])
    balanced = balanced_accuracy_score(frame["scene_label"], frame["scene_pred"])
    assert (scores["accuracy"], scores["balanced_accuracy"]) == pytest.approx((accuracy, balanced), rel=1e-12)
    assert (f"test: accuracy {accuracy:.3f}, balanced accuracy {balanced:.3f}, log_loss {exact:.3f}, "
            f"log_loss_ref3 {ref:.3f} (40 clips)" in out), out


def test_predict_decimals_and_evaluate_name_the_file_precision(early_run, tmp_path, capsys):
    scores = json.loads((early_run / "manifest.json").read_text())["scores"]
    p3, p6 = tmp_path / "p3.csv", tmp_path / "p6.csv"
    assert main(["predict", str(early_run), "--out", str(p3)]) == 0
    assert main(["predict", str(early_run), "--decimals", "6", "--out", str(p6)]) == 0
    capsys.readouterr()
    row3 = p3.read_text().splitlines()[1].split("\t")
    row6 = p6.read_text().splitlines()[1].split("\t")
    assert all(re.fullmatch(r"[01]\.\d{3}", v) for v in row3[3:13]), row3
    assert all(re.fullmatch(r"[01]\.\d{6}", v) for v in row6[3:13]), row6
    assert read_prediction(p6).attrs["decimals"] == 6

    assert main(["evaluate", "--prediction", str(p3)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # the reference output, unchanged; its log loss is the manifest's log_loss_ref3
    assert lines[-2] == f"overall log loss: {scores['log_loss_ref3']:.3f}"
    assert "(3 decimals, the reference format): log_loss_ref3" in lines[-1]

    assert main(["evaluate", "--prediction", str(p6)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # read at its own precision (not rounded to 3 again): the exact log loss within 6-decimal rounding
    loss6 = float(lines[-2].removeprefix("overall log loss: "))
    assert loss6 == pytest.approx(scores["log_loss"], abs=2e-3)
    assert abs(scores["log_loss_ref3"] - scores["log_loss"]) > 2e-3
    assert lines[-1].startswith("note: overall log loss is over the file's probabilities (6 decimals), "
                                "not log_loss_ref3")

    assert main(["predict", str(early_run), "--decimals", "0", "--out", str(tmp_path / "p0.csv")]) == 2
    assert "--decimals 0: expected 1 to 17 decimals" in capsys.readouterr().err
    assert not (tmp_path / "p0.csv").exists()


# -- compare and report ---------------------------------------------------------------------------
def test_compare_shows_both_log_losses_the_same_for_any_n_jobs(native, tmp_path, capsys):
    tables = {}
    for n_jobs in (1, 2):
        out = tmp_path / f"cmp{n_jobs}"
        assert main(["compare", "--features", str(native), "--fusions", "audio,video,early,late,weighted",
                     "--n-boot", "50", "--n-jobs", str(n_jobs), "--out", str(out)]) == 0
        text = capsys.readouterr().out
        assert "log_loss (95% CI)" in text and "log_loss_ref3" in text
        tables[n_jobs] = pd.read_csv(out / "compare.csv")
        assert "log_loss_ref3 |" in (out / "compare.md").read_text()
    one, two = (t.drop(columns=["fit_time_s", "predict_time_s"]) for t in (tables[1], tables[2]))
    pd.testing.assert_frame_equal(one, two)
    t = tables[1]
    assert ((t["log_loss_ref3_low"] <= t["log_loss_ref3"]) & (t["log_loss_ref3"] <= t["log_loss_ref3_high"])).all()
    assert (t["log_loss"] != t["log_loss_ref3"]).all()


def test_report_shows_both_log_losses_the_same_for_any_n_jobs(native, early_run, tmp_path, capsys):
    audio = tmp_path / "audio"
    assert main(["fit", "--features", str(native), "--fusion", "audio", "--out", str(audio)]) == 0
    capsys.readouterr()
    texts = {}
    for n_jobs in (1, 2):
        out = tmp_path / f"rep{n_jobs}"
        assert main(["report", str(early_run), str(audio), "--n-boot", "50", "--n-jobs", str(n_jobs),
                     "--out", str(out)]) == 0
        texts[n_jobs] = capsys.readouterr().out.replace(str(out), "OUT")
        summary = pd.read_csv(out / "summary.csv", index_col="run")
        numbers = json.loads((out / "report.json").read_text())
        assert {"log_loss", "log_loss_ref3", "log_loss_ref3_low", "log_loss_ref3_high"} <= set(summary.columns)
        assert "early log_loss_ref3" in pd.read_csv(out / "city.csv").columns
    assert texts[1] == texts[2]
    assert (tmp_path / "rep1" / "report.json").read_text() == (tmp_path / "rep2" / "report.json").read_text()
    scores = json.loads((early_run / "manifest.json").read_text())["scores"]
    assert summary.loc["early", "log_loss"] == pytest.approx(scores["log_loss"], rel=1e-9)
    assert summary.loc["early", "log_loss_ref3"] == pytest.approx(scores["log_loss_ref3"], rel=1e-9)
    assert numbers["runs"]["early"]["scores"]["log_loss_ref3"] == pytest.approx(scores["log_loss_ref3"], rel=1e-9)
    assert re.search(rf"early: accuracy .* log_loss {scores['log_loss']:.3f}  log_loss_ref3 "
                     rf"{scores['log_loss_ref3']:.3f}", texts[1])


# -- --n-jobs: the same results --------------------------------------------------------------------
@pytest.mark.parametrize("fusion", ["weighted", "late"])
def test_fit_and_predict_results_do_not_depend_on_n_jobs(native, tmp_path, capsys, fusion):
    preds = {}
    for n_jobs in (1, 2):
        run = tmp_path / f"{fusion}{n_jobs}"
        assert main(["fit", "--features", str(native), "--fusion", fusion, "--n-jobs", str(n_jobs),
                     "--out", str(run)]) == 0
        manifest = json.loads((run / "manifest.json").read_text())
        preds[n_jobs] = manifest["scores"]
        for k in (1, 2):  # every run predicted with both
            path = tmp_path / f"{fusion}{n_jobs}-{k}.csv"
            assert main(["predict", str(run), "--n-jobs", str(k), "--decimals", "9", "--out", str(path)]) == 0
    capsys.readouterr()
    assert preds[1].keys() == preds[2].keys()
    assert all(preds[1][k] == pytest.approx(preds[2][k], rel=1e-12, abs=1e-12) for k in preds[1])
    texts = {p.name: p.read_text() for p in tmp_path.glob(f"{fusion}*-*.csv")}
    assert len(texts) == 4 and len(set(texts.values())) == 1
    from avsc_sk.runs import load_run

    assert load_run(tmp_path / f"{fusion}2").model.n_jobs is None  # a runtime choice, not saved in the model


def test_predict_proba_scenes_in_chunks_is_exact(small_train, small_test):
    from avsc_sk.runs import build_estimator, fit_estimator, predict_proba_scenes

    config = {"fusion": "early", "model": "logreg", "seed": 0, "segment_frames": 0, "params": {}}
    model = fit_estimator(build_estimator(config, small_train.modalities), small_train)
    one = predict_proba_scenes(model, small_test.X)
    # The README's stated precision. Regression: the heads predicted in float32, whose products
    # differ by up to 1.2e-7 with the number of rows per BLAS call (issue 22).
    np.testing.assert_allclose(predict_proba_scenes(model, small_test.X, n_jobs=3), one, rtol=0, atol=1e-12)
    np.testing.assert_allclose(predict_proba_scenes(model, small_test.X[:2], n_jobs=4), one[:2], rtol=0, atol=1e-12)


def test_n_jobs_help_says_the_default(capsys):
    for command in ("fit", "predict", "compare", "report"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "results do not depend on it (default: 1," in text, command
    with pytest.raises(SystemExit) as exc:  # joblib's n_jobs=0 would be a traceback later
        main(["predict", "RUN", "--n-jobs", "0", "--out", "p.csv"])
    assert exc.value.code == 2
    assert "--n-jobs: '0': expected a positive number of jobs, or -1 for every core" in capsys.readouterr().err


# -- tune ------------------------------------------------------------------------------------------
def test_tune_default_split_on_a_root_without_val_and_both_log_losses(tmp_path, capsys):
    # 40 clips a scene: the first clips of a scene come from one location, and the folds need two
    root = write_features(tmp_path / "root", {"train": small_featureset("train", n_per_class=40),
                                              "test": small_featureset("test", n_per_class=2)}, layout="A")
    grid = tmp_path / "grid.toml"
    grid.write_text('fusion = "audio"\nmodel = "logreg"\n[grid]\nhead__C = [0.1, 1.0]\n')
    argv = ["tune", str(grid), "--features", str(root), "--cv", "2", "--quiet", "--out", str(tmp_path / "t")]
    assert main(argv) == 0  # was: "no 'val' split"
    out = capsys.readouterr().out
    assert re.search(r"^training on split train \(.*root has no 'val' split\)$", out, re.M), out
    assert "400 clips" in out
    assert re.search(r"^best CV log_loss [\d.]+ \(log_loss_ref3 [\d.]+\): head__C=", out, re.M), out
    assert re.search(r"^refitted best on train; test: accuracy [\d.]+, balanced accuracy [\d.]+, log_loss [\d.]+, "
                     r"log_loss_ref3 [\d.]+ \(20 clips\)$", out, re.M), out
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert summary["split"] == "train"
    assert {"log_loss", "log_loss_ref3"} <= set(summary["refit_scores"])
    results = pd.read_csv(tmp_path / "t" / "cv_results.csv")
    assert {"mean_test_neg_log_loss", "mean_test_neg_log_loss_ref3", "mean_test_accuracy"} <= set(results.columns)
    assert "| log_loss | log_loss_ref3 | accuracy |" in (tmp_path / "t" / "results.md").read_text()
