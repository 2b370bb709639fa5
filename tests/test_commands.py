"""Regression tests of issue 10: what a new user hit at fit, predict, evaluate, compare and report."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from avsc_sk.cli import main
from avsc_sk.data import SCENES, write_features

from conftest import small_featureset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    """A native file with a train, val and test split of a few clips per scene."""
    base = tmp_path_factory.mktemp("commands")
    sets = {"train": small_featureset("train", n_per_class=4), "val": small_featureset("val", n_per_class=2),
            "test": small_featureset("test", n_per_class=3)}
    return write_features(base / "features.h5", sets)


def _prediction(path, extra=None):
    head = ["aid", "scene_pred", "scene_label", *SCENES, *(extra or {})]
    row = ["bus-lyon-1100-40123", "bus", "bus", *(["0.100"] * 10), *(extra or {}).values()]
    path.write_text("\t".join(head) + "\n" + "\t".join(row) + "\n")
    return path


def _error(capsys):
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("avsc-sk: error: "), err
    return lines[0]


# -- 8: accurate messages for a file that is not a prediction or label file ----------------------
def test_evaluate_names_a_file_that_is_no_prediction(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# avsc-sk\n\nClassical machine learning for scenes such as a tram or an airport.\n")
    assert main(["evaluate", "--prediction", str(readme)]) == 2
    line = _error(capsys)
    assert "README.md is not a prediction file" in line and "aid scene_pred" in line
    assert "empty" not in line and "space-separated" not in line


def test_evaluate_names_a_directory_given_as_labels(tmp_path, capsys):
    pred = _prediction(tmp_path / "pred.csv")
    assert main(["evaluate", "--prediction", str(pred), "--label", str(ROOT / "pipelines")]) == 2
    line = _error(capsys)
    assert "pipelines is a directory" in line and "label file" in line
    assert "disk space" not in line


# -- 4: a score on clips that were trained on is labelled in-sample, with a warning ---------------
def test_fit_on_the_evaluation_split_labels_the_score_in_sample(native, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["fit", "--features", str(native), "--split", "test", "--out", str(run)]) == 0
    out, err = capsys.readouterr()
    assert re.search(r"^avsc-sk: warning: 30 of the 30 clips of .*features.h5 \(split test\) were in the "
                     r"training split test; .*in-sample", err, re.M), err
    assert "test (in-sample: 30 of 30 clips were trained on): accuracy" in out
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["scores"]["n_trained_on"] == 30
    assert manifest["warnings"] and "in-sample" in manifest["warnings"][0]


def test_fit_on_a_held_out_split_says_nothing_of_in_sample(native, tmp_path, capsys):
    assert main(["fit", "--features", str(native), "--out", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    assert "warning" not in err and "in-sample" not in out
    assert re.search(r"; test: accuracy [\d.]+, balanced accuracy [\d.]+, log_loss [\d.]+, log_loss_ref3 [\d.]+ "
                     r"\(30 clips\)", out)


def test_predict_warns_on_a_subset_of_the_training_clips(native, tmp_path, capsys):
    # trained on train+val; predicting train alone was silent (whole-split fingerprint check)
    run = tmp_path / "run"
    assert main(["fit", "--features", str(native), "--out", str(run)]) == 0
    assert (run / "train_clips.txt").read_text().count("\n") == 60
    capsys.readouterr()
    assert main(["predict", str(run), "--split", "train", "--out", str(tmp_path / "p.csv")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^avsc-sk: warning: 40 of the 40 clips .*\(split train\) were in the run's training split "
                     r"train\+val; .*in-sample", err, re.M), err
    assert main(["predict", str(run), "--split", "test", "--out", str(tmp_path / "q.csv")]) == 0
    assert "in-sample" not in capsys.readouterr().err


# -- 10: the default training split uses what a layout-A root has ------------------------------
def test_fit_default_split_on_a_root_without_val(tmp_path, capsys):
    root = write_features(tmp_path / "root", {"train": small_featureset("train", n_per_class=3),
                                              "test": small_featureset("test", n_per_class=2)}, layout="A")
    assert main(["fit", "--features", str(root), "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^training on split train \(.*root has no 'val' split\)$", out, re.M), out
    assert "fitted early (logreg) on 30 clips" in out
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["train"]["split"] == "train"


# -- 11: help and summary lines that say what is true ------------------------------------------
def test_compare_help_prints_a_single_percent_sign(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = capsys.readouterr().out
    assert "95% bootstrap" in " ".join(out.split()) and "%%" not in out


def test_fit_intermediate_does_not_name_a_head(native, tmp_path, capsys):
    argv = ["fit", "--features", str(native), "--fusion", "intermediate", "--out", str(tmp_path / "run"),
            "--params.max_epochs", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "fitted intermediate (its own network) on 60 clips" in out and "logreg" not in out


# -- 6: a training split lacking scenes the scored clips hold ----------------------------------
def _without(fs, scenes):
    return fs.subset(~pd.Series(fs.y).isin(scenes).to_numpy())


@pytest.fixture(scope="module")
def lacking(tmp_path_factory):
    """Features whose train split lacks bus and tram, and a run trained on it."""
    base = tmp_path_factory.mktemp("lacking")
    train = _without(small_featureset("train", n_per_class=4), ["bus", "tram"])
    features = write_features(base / "features.h5", {"train": train,
                                                     "test": small_featureset("test", n_per_class=3)})
    assert main(["fit", "--features", str(features), "--split", "train", "--out", str(base / "run")]) == 0
    return features, base / "run"


UNSEEN = r"^avsc-sk: warning: .*has no clips of 2 scene\(s\) that the scored clips hold: bus \(3 clips\), " \
         r"tram \(3 clips\);.*34\.5 to the log loss"


def test_fit_warns_of_scenes_missing_from_training(lacking, tmp_path, capsys):
    features, _ = lacking
    assert main(["fit", "--features", str(features), "--split", "train", "--out", str(tmp_path / "run")]) == 0
    assert re.search(UNSEEN, capsys.readouterr().err, re.M)


def test_predict_evaluate_warn_of_scenes_missing_from_training(lacking, tmp_path, capsys):
    features, run = lacking
    pred = tmp_path / "p.csv"
    assert main(["predict", str(run), "--out", str(pred)]) == 0
    assert re.search(UNSEEN, capsys.readouterr().err, re.M)
    assert main(["evaluate", "--prediction", str(pred)]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^avsc-sk: warning: .*bus \(3 clips\), tram \(3 clips\)", err, re.M), err


def test_tune_labels_an_in_sample_refit_score(native, tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text('fusion = "audio"\nmodel = "logreg"\n[grid]\nhead__C = [0.1, 1.0]\n')
    argv = ["tune", str(grid), "--features", str(native), "--split", "train+test", "--cv", "2", "--quiet",
            "--out", str(tmp_path / "tuned")]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert re.search(r"^avsc-sk: warning: 30 of the 30 clips .*\(split test\) were in the training split "
                     r"train\+test", err, re.M), err
    assert "test (in-sample: 30 of 30 clips were trained on): accuracy" in out


def test_compare_and_report_warn_of_scenes_missing_from_training(lacking, tmp_path, capsys):
    features, run = lacking
    argv = ["compare", "--features", str(features), "--train-split", "train", "--fusions", "audio,early",
            "--n-boot", "20", "--out", str(tmp_path / "cmp")]
    assert main(argv) == 0  # was: an error, "the model saw 8 classes"
    assert re.search(UNSEEN, capsys.readouterr().err, re.M)
    table = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert "data" not in table  # real features: the reference columns only
    assert (table["accuracy"] <= 24 / 30 + 1e-9).all()  # the 6 bus and tram clips are always wrong
    assert main(["report", str(run), "--n-boot", "20", "--out", str(tmp_path / "report")]) == 0
    assert re.search(r"^avsc-sk: warning: run early: .*bus \(3 clips\), tram \(3 clips\)",
                     capsys.readouterr().err, re.M)


def test_report_warns_when_scoring_training_clips(native, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["fit", "--features", str(native), "--split", "train", "--eval-split", "", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["report", str(run), "--split", "train", "--n-boot", "20", "--out", str(tmp_path / "r")]) == 0
    assert re.search(r"^avsc-sk: warning: run early: 40 of the 40 clips .*in-sample", capsys.readouterr().err, re.M)


# -- 12: every output of synthetic data says so, in a form its readers accept -------------------
def _synthetic(fs):
    fs.synthetic = True
    return fs


def test_compare_csv_of_synthetic_data_has_a_data_column(tmp_path, monkeypatch, capsys):
    from avsc_sk.cli import _compare

    train, test = _synthetic(small_featureset("train", n_per_class=4)), _synthetic(small_featureset("test"))
    monkeypatch.setattr(_compare, "load_split", lambda features, name, **kw: train if "train" in name else test)
    assert main(["compare", "--fusions", "audio,early", "--n-boot", "20", "--out", str(tmp_path / "c")]) == 0
    assert capsys.readouterr().out.startswith("SYNTHETIC data")
    table = pd.read_csv(tmp_path / "c" / "compare.csv")
    assert list(table.columns[:3]) == ["mode", "accuracy", "accuracy_low"] and table.columns[-1] == "data"
    assert set(table["data"]) == {"synthetic"} and len(table) == 2


def test_evaluate_reads_a_synthetic_prediction_file_and_says_so(tmp_path, capsys):
    pred = _prediction(tmp_path / "pred.csv", extra={"data": "synthetic"})
    assert main(["evaluate", "--prediction", str(pred)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SYNTHETIC data") and "accuracy: 1.000" in out
    # a reader that takes the scenes by position (after aid, scene_pred, scene_label) still finds them
    frame = pd.read_csv(pred, sep="\t")
    assert list(frame.columns[3:13]) == list(SCENES)
    _prediction(pred, extra={"data": "made-up"})
    assert main(["evaluate", "--prediction", str(pred)]) == 2
    assert "'made-up'" in _error(capsys)


# -- 9: --features and --max-frames say what they do, and another frame count is predicted --------
def test_predict_help_names_the_run_features_as_default(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: the features the run was trained on" in text
    assert "(default: the built-in synthetic data)" not in text
    assert "the built-in data have 10" in text


def test_max_frames_cuts_the_builtin_data(tmp_path, monkeypatch, capsys):
    import avsc_sk.datasets

    builtin = _synthetic(small_featureset("train", n_per_class=3, n_frames=10))
    monkeypatch.setattr(avsc_sk.datasets, "load_tau_like",
                        lambda split, stats=None: builtin if stats is None else builtin.pool(stats))
    run = tmp_path / "run"
    assert main(["fit", "--max-frames", "4", "--eval-split", "", "--out", str(run)]) == 0
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["modalities"] == [["audio", 4, 6], ["video", 4, 3]]
    assert manifest["train"]["max_frames"] == 4
    assert main(["fit", "--eval-split", "", "--out", str(tmp_path / "all")]) == 0  # default 96: all 10
    assert json.loads((tmp_path / "all" / "manifest.json").read_text())["modalities"][0] == ["audio", 10, 6]


@pytest.fixture(scope="module")
def ten_frames(tmp_path_factory):
    """A run trained on 10-frame clips, and the same test clips stored with 96 frames."""
    base = tmp_path_factory.mktemp("frames")
    train = write_features(base / "train10.h5", {"train": small_featureset("train", n_per_class=4, n_frames=10)})
    test96 = write_features(base / "test96.h5", {"test": small_featureset("test", n_per_class=3, n_frames=96)})
    assert main(["fit", "--features", str(train), "--split", "train", "--out", str(base / "run")]) == 0
    return base / "run", test96


def test_predict_pools_every_frame_of_another_frame_count_with_a_warning(ten_frames, tmp_path, capsys):
    from avsc_sk.data import read_features
    from avsc_sk.runs import load_run, predict_proba_scenes

    run, test96 = ten_frames
    capsys.readouterr()
    pred = tmp_path / "p.csv"
    assert main(["predict", str(run), "--features", str(test96), "--out", str(pred)]) == 0  # was: an error
    err = capsys.readouterr().err
    assert re.search(r"^avsc-sk: warning: .*test96.h5 hold clips of another frame count .*\(audio 96 instead of "
                     r"10, video 96 instead of 10\); .*pooled over all their frames", err, re.M), err
    # Statistics are read pooled over all 96 frames: the model takes them as the 10-frame ones.
    data = read_features(test96, "test", stats=("mean",))
    expected = predict_proba_scenes(load_run(run).model, data.X)
    written = pd.read_csv(pred, sep="\t")
    np.testing.assert_allclose(written[list(SCENES)].to_numpy(), expected, atol=5e-4)


def test_frames_of_another_count_are_spread_for_a_frame_level_run(ten_frames):
    from avsc_sk.data import read_features
    from avsc_sk.runs import check_features, load_run

    run, test96 = ten_frames
    manifest = dict(load_run(run).manifest)
    manifest["train"] = {**manifest["train"], "stats": None}  # a run fitted on frames (Python API, old runs)
    data = check_features(manifest, read_features(test96, "test"))
    index = np.arange(10) * 96 // 10  # frames 0, 9, 19, ..., 86 of each clip
    np.testing.assert_array_equal(data.frames("audio"), read_features(test96, "test").frames("audio")[:, index])


def test_segment_mode_refuses_another_frame_count(ten_frames, tmp_path, capsys):
    _, test96 = ten_frames
    train = write_features(tmp_path / "t.h5", {"train": small_featureset("train", n_per_class=3, n_frames=10)})
    run = tmp_path / "run"
    assert main(["fit", "--features", str(train), "--split", "train", "--segment-frames", "5", "--out",
                 str(run)]) == 0
    capsys.readouterr()
    assert main(["predict", str(run), "--features", str(test96), "--out", str(tmp_path / "p.csv")]) == 2
    line = _error(capsys)
    assert "segment mode" in line and "--max-frames 10" in line
