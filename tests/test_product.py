"""The product matrix (issue 18): what a user runs, end to end through the command line, on tiny data.

Unit tests passed while ``avsc-sk fit --model svm`` crashed at save after the whole fit; these run
each command as a user does (``avsc_sk.cli.main``) on every fusion mode x every head, every
shipped config and grid file, automatic selection, ``report`` and ``compare``, and check what a
user gets: exit status 0, the files written and well-formed, no traceback, and no warning
other than the ``avsc-sk: warning:`` lines of the house style.

The data: the built-in generator's SYNTHETIC embeddings for real fold1 clip names, cut to four
scenes with several recording locations each (so every location-grouped inner CV can group),
four frames of eight values, written in the native layout.
"""

import json
import re
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from avsc_sk.cli import main
from avsc_sk.data import write_features
from avsc_sk.datasets import make_tau_like
from avsc_sk.fusion import FUSIONS, make_estimator
from avsc_sk.heads import HEADS

ROOT = Path(__file__).resolve().parents[1]
SCENES = ("airport", "metro", "park", "street_traffic")
#: split -> (locations per scene, clips per location): train+val hold five locations per scene.
PLAN = {"train": (4, 4), "val": (1, 3), "test": (2, 3)}
N_TEST = len(SCENES) * PLAN["test"][0] * PLAN["test"][1]
N_FRAMES, DIM = 4, 8
MODALITIES = (("audio", N_FRAMES, DIM), ("video", N_FRAMES, DIM))

#: Head parameters fixed where a case is not about choosing them: the heads' inner CV would
#: otherwise spend most of the matrix's time (LightGBM still chooses its rounds by early stopping,
#: on few of them). A head missing here runs with its defaults.
HEAD_PINS = {"logreg": {"C": "1.0"}, "linsvm": {"C": "1.0"}, "svm": {"C": "1.0", "gamma": '"scale"'},
             "lgbm": {"max_rounds": "20", "stopping_rounds": "3", "min_child_samples": "5"}, "knn": {"n_neighbors": "5"},
             "mlp": {"alpha": "0.01", "hidden_layer_sizes": "[16]", "max_iter": "300"}}
#: Intermediate fusion is its own network: a short, small one.
INTERMEDIATE_PINS = {"hidden": "16", "embed": "8", "shared": "8", "max_epochs": "20", "patience": "3"}
#: Late and weighted fusion: three internal folds instead of five.
FUSION_PINS = {"late": {"cv": "3"}, "weighted": {"cv": "3"}}


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """The native features file and its test clips' ids (in file order)."""
    sets = make_tau_like(n_frames=N_FRAMES, dim=DIM, seed=0)
    out = {}
    for split, (n_locations, n_clips) in PLAN.items():
        fs, keep = sets[split], []
        for scene in SCENES:
            rows = np.flatnonzero(fs.y == scene)
            locations = sorted(set(fs.location[rows]))[:n_locations]
            assert len(locations) == n_locations, (split, scene)  # the real metadata hold enough
            for location in locations:
                keep.extend(rows[fs.location[rows] == location][:n_clips])
        out[split] = fs.subset(np.sort(keep))
    path = write_features(tmp_path_factory.mktemp("product") / "features.h5", out)
    return path, list(out["test"].clip_ids)


def cli(capsys, *argv):
    """Run one command as a user would; its exit status, stdout and stderr.

    Python warnings that are not AvscWarnings would reach the user as raw multi-line text
    (pytest would otherwise swallow them): they are recorded and returned on stderr, as the
    CLI prints them, so the checks below see what a user sees.
    """
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.filterwarnings("ignore", category=category)  # Python's own defaults outside __main__
        status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    err += "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught)
    return status, out, err


def ok(capsys, *argv):
    """Run a command that must succeed: status 0, no traceback, only house-style warning lines."""
    status, out, err = cli(capsys, *argv)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert status == 0, f"avsc-sk {' '.join(map(str, argv))} exited {status}:\n{err}"
    stray = [line for line in err.splitlines() if line and not line.startswith("avsc-sk: warning: ")]
    assert not stray, f"stderr lines that are not 'avsc-sk: warning:' lines:\n{err}"
    return out, err


def pins(fusion, model, modalities=None, *, given=()):
    """``--set params.KEY=VALUE`` arguments fixing the head's (or network's) parameters, but those in ``given``."""
    modalities = MODALITIES if modalities is None else modalities
    if fusion == "intermediate":
        wanted = INTERMEDIATE_PINS
        keys = {k: k for k in wanted}
    else:
        estimator = make_estimator(fusion, modalities, model=model)
        wanted = HEAD_PINS.get(model, {})
        names = estimator.get_params(deep=True)
        keys = {}
        for name in wanted:
            found = [k for k in names if k == f"head__{name}" or k.endswith(f"__head__{name}")]
            assert found, f"{fusion} ({model}) has no head parameter {name}"
            keys.update(dict.fromkeys(found, name))
    items = {key: wanted[name] for key, name in keys.items()} | FUSION_PINS.get(fusion, {})
    return [arg for key, value in items.items() if key not in given for arg in ("--set", f"params.{key}={value}")]


def check_run(run):
    """A complete run directory; its manifest."""
    for name in ("model.skops", "config.toml", "manifest.json"):
        assert (run / name).is_file(), f"{run} lacks {name}"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["classes"] == list(SCENES)
    return manifest


def check_prediction(path, test_ids):
    """A reference-format prediction file of every test clip; the frame."""
    frame = pd.read_csv(path, sep="\t")
    assert list(frame.columns) == ["aid", "scene_pred", "scene_label", *SCENES, "data"]
    assert len(frame) == N_TEST and sorted(frame["aid"]) == sorted(test_ids)
    P = frame[list(SCENES)].to_numpy()
    assert np.isfinite(P).all() and (P >= 0).all() and (P <= 1).all()
    # Printed with 3 decimals: each of the 4 may be off by half a unit of the last place.
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=len(SCENES) * 5e-4 + 1e-9)
    chosen = P[np.arange(len(frame)), [SCENES.index(s) for s in frame["scene_pred"]]]
    np.testing.assert_array_equal(chosen, P.max(axis=1))  # scene_pred is the most probable class
    assert set(frame["data"]) == {"synthetic"}
    return frame


def fit_predict_evaluate(capsys, tmp_path, tiny, fit_args, *, coverage=False):
    """fit -> saved run -> predict (load_run) -> evaluate, checking every output; the manifest and fit's stdout.

    With ``coverage`` also predict --coverage 0.9 and evaluate its prediction sets.
    """
    features, test_ids = tiny
    run, pred = tmp_path / "run", tmp_path / "prediction.csv"
    # Calibration (five more fits) only where prediction sets are checked: the matrix stays quick.
    fitted, _ = ok(capsys, "fit", "--features", features, *fit_args, *(["--calibrate"] if coverage else []),
                   "--out", run)
    assert fitted.startswith("SYNTHETIC data") and f"saved run to {run}" in fitted
    manifest = check_run(run)
    ok(capsys, "predict", run, "--out", pred)
    frame = check_prediction(pred, test_ids)
    out, _ = ok(capsys, "evaluate", "--prediction", pred)
    accuracy = float(re.search(r"^accuracy: ([\d.]+)$", out, re.M).group(1))
    log_loss = float(re.search(r"^overall log loss: ([\d.]+)$", out, re.M).group(1))
    assert accuracy == pytest.approx((frame["scene_pred"] == frame["scene_label"]).mean(), abs=5e-4)
    # The loaded run predicts what the fitted model scored before saving.
    scores = manifest["scores"]
    assert scores["n_clips"] == N_TEST
    assert accuracy == pytest.approx(scores["accuracy"], abs=5e-4)
    assert log_loss == pytest.approx(scores["log_loss_ref3"], abs=2e-3)
    if coverage:
        assert manifest["calibration"]["grouped"] and manifest["calibration"]["n_clips"] == len(SCENES) * 19
        sets = tmp_path / "sets.csv"
        ok(capsys, "predict", run, "--coverage", "0.9", "--out", sets)
        with_sets = pd.read_csv(sets, sep="\t")
        assert list(with_sets.columns) == [*frame.columns, "prediction_set"]
        assert [s.split("|")[0] for s in with_sets["prediction_set"]] == list(frame["scene_pred"])
        out, _ = ok(capsys, "evaluate", "--prediction", sets)
        assert "prediction sets: empirical coverage" in out
    return manifest, fitted


# ------------------------------------------------------------------ every fusion mode x every head
CASES = [(f, m) for f in FUSIONS if f != "intermediate" for m in HEADS] + [("intermediate", None)]


@pytest.mark.parametrize("fusion, model", CASES, ids=[f"{f}-{m}" if m else f for f, m in CASES])
def test_fit_predict_evaluate(tiny, tmp_path, capsys, fusion, model):
    args = ["--fusion", fusion, *(["--model", model] if model else []), *pins(fusion, model)]
    # Prediction sets for every fusion mode, once each (with its default head).
    manifest, _ = fit_predict_evaluate(capsys, tmp_path, tiny, args, coverage=model in ("logreg", None))
    config = tomllib.loads((tmp_path / "run" / "config.toml").read_text())
    assert config["fusion"] == fusion and config.get("model") == model  # intermediate takes no head
    # The head recorded is the head used: intermediate fusion is a network of its own.
    assert (manifest["fusion"], manifest["model"]) == (fusion, model or "network")


# ------------------------------------------------------------------ every shipped fit config
CONFIGS = sorted(p.name for p in (ROOT / "pipelines").glob("*.toml") if not p.name.startswith("grid-"))


def test_every_config_is_in_the_matrix():
    assert {"audio.toml", "video.toml", "early.toml", "late.toml", "weighted.toml", "best.toml"} <= set(CONFIGS)


def config_pins(path):
    """Pins for a config's own fusion and head, but the values the config fixes itself."""
    config = tomllib.loads(path.read_text())
    return pins(config["fusion"], config.get("model", "logreg"), given=config.get("params", {}))


@pytest.mark.parametrize("name", CONFIGS)
def test_fit_config(tiny, tmp_path, capsys, name):
    path = ROOT / "pipelines" / name
    manifest, _ = fit_predict_evaluate(capsys, tmp_path, tiny, ["--config", path, *config_pins(path)])
    config = tomllib.loads((tmp_path / "run" / "config.toml").read_text())
    assert config["fusion"] == tomllib.loads(path.read_text())["fusion"]
    assert manifest["scores"]["n_clips"] == N_TEST


# ------------------------------------------------------------------ every shipped grid, tuned and refitted
GRIDS = sorted(p.name for p in (ROOT / "pipelines").glob("grid-*.toml"))
#: Fixed values the tiny data need (LightGBM's leaves of 20 clips would leave a tree without splits).
GRID_SETS = {"grid-early-lgbm.toml": ["params.head__min_child_samples=5"]}


@pytest.mark.parametrize("name", GRIDS)
def test_tune_grid_and_refit_best(tiny, tmp_path, capsys, name):
    features, _ = tiny
    path, out = ROOT / "pipelines" / name, tmp_path / "tune"
    config = tomllib.loads(path.read_text())
    grids = config["grid"] if isinstance(config["grid"], list) else [config["grid"]]
    given = {**config.get("params", {}), **{key: None for grid in grids for key in grid}}
    # The heads inside late and weighted fusion would choose C on folds nested three deep.
    sets = pins(config["fusion"], config.get("model", "logreg"), given=given)
    sets += [a for s in GRID_SETS.get(name, []) for a in ("--set", s)]
    stdout, err = ok(capsys, "tune", path, "--features", features, "--cv", "2", "--quiet", *sets, "--out", out)
    for file in ("cv_results.csv", "results.md", "best.toml", "search.png", "summary.json"):
        assert (out / file).is_file(), f"tune wrote no {file}"
    summary = json.loads((out / "summary.json").read_text())
    results = pd.read_csv(out / "cv_results.csv")
    assert len(results) == summary["n_candidates"] >= 2 and np.isfinite(summary["best_cv_score"])
    assert "refitted best on train+val" in stdout
    fit_predict_evaluate(capsys, tmp_path, tiny, ["--config", out / "best.toml"])
    # best.toml reproduces the refit: the same test score as tune's refit.
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["scores"]["log_loss"] == pytest.approx(summary["refit_scores"]["log_loss"], abs=1e-9)


# ------------------------------------------------------------------ automatic selection
@pytest.mark.parametrize("auto", [["--fusion", "auto"], ["--fusion", "auto", "--model", "auto"]],
                         ids=["fusion-auto", "fusion-and-model-auto"])
def test_fit_auto(tiny, tmp_path, capsys, auto):
    # The small budget cuts the dear candidates (late, weighted, LightGBM) by the cost model.
    manifest, out = fit_predict_evaluate(capsys, tmp_path, tiny, [*auto, "--budget", "30"])
    selection, candidates = manifest["selection"], manifest["selection"]["candidates"]
    assert selection["fusion"] in FUSIONS
    best = candidates["rank"].index(1)
    assert (candidates["fusion"][best], candidates["model"][best]) == (selection["fusion"], selection["model"])
    if "--model" not in auto:
        assert set(candidates["model"]) <= {"logreg", "network"}  # the head stays the default
    # The summary line names the mode fitted, not "auto".
    head = "its own network" if selection["fusion"] == "intermediate" else selection["model"]
    assert f"fitted {selection['fusion']} ({head}) on 76 clips" in out, out


# ------------------------------------------------------------------ report and compare
def test_report_of_several_runs(tiny, tmp_path, capsys):
    features, _ = tiny
    runs = [tmp_path / fusion for fusion in ("audio", "video", "early")]
    for run in runs:
        ok(capsys, "fit", "--features", features, "--fusion", run.name, *pins(run.name, "logreg"), "--out", run)
    out = tmp_path / "report"
    ok(capsys, "report", *runs, "--n-boot", "20", "--out", out)
    for file in ("per_class.csv", "summary.csv", "report.md", "report.html", "report.json"):
        assert (out / file).is_file(), f"report wrote no {file}"
    assert "SYNTHETIC" in (out / "report.md").read_text().split("\n", 3)[2]
    per_class = pd.read_csv(out / "per_class.csv")
    assert set(per_class["run"]) == {r.name for r in runs} and set(SCENES) <= set(per_class["label"])
    summary = pd.read_csv(out / "summary.csv").set_index("run")
    for run in runs:  # report predicts what fit scored
        scores = json.loads((run / "manifest.json").read_text())["scores"]
        assert summary.loc[run.name, "n_clips"] == N_TEST
        assert summary.loc[run.name, "accuracy"] == pytest.approx(scores["accuracy"], abs=1e-12)
        assert summary.loc[run.name, "log_loss"] == pytest.approx(scores["log_loss"], rel=1e-6)


def test_compare_every_mode(tiny, tmp_path, capsys):
    features, _ = tiny
    out = tmp_path / "compare"
    stdout, _ = ok(capsys, "compare", "--features", features, "--n-boot", "20", "--out", out)
    assert stdout.startswith("SYNTHETIC data")
    table = pd.read_csv(out / "compare.csv")
    assert list(table["mode"]) == list(FUSIONS) and set(table["data"]) == {"synthetic"}
    assert table["accuracy"].between(0, 1).all() and np.isfinite(table["log_loss"]).all()
    assert (out / "compare.md").is_file()


# ------------------------------------------------------------------ cross-modal transfer (fit --teacher)
#: Every teacher mode a user can fit, each teaching a video student with the default head; the other heads
#: that learn from soft targets, each taught by an early-fusion teacher, on audio.
DISTILL_CASES = [(t, "video", "logreg") for t in ("early", "late", "weighted", "intermediate", "auto")] + \
                [("early", "audio", "mlp"), ("early", "audio", "lgbm")]


@pytest.mark.parametrize("teacher, student, model", DISTILL_CASES, ids=[f"{t}-teaches-{s}-{m}" for t, s, m in DISTILL_CASES])
def test_fit_with_teacher(tiny, tmp_path, capsys, teacher, student, model):
    features, _ = tiny
    run = tmp_path / f"teacher-{teacher}"
    teacher_args = ["--fusion", "auto", "--budget", "30"] if teacher == "auto" else \
        ["--fusion", teacher, *pins(teacher, "logreg")]
    ok(capsys, "fit", "--features", features, *teacher_args, "--out", run)
    # Calibration once (the student's calibration folds refit its teacher's folds too).
    manifest, out = fit_predict_evaluate(
        capsys, tmp_path, tiny, ["--fusion", student, "--model", model, *pins(student, model), "--teacher", run],
        coverage=teacher == "early" and model == "logreg")
    recorded = manifest["teacher"]
    assert recorded["path"] == str(run) and recorded["alpha"] == 0.5 and recorded["oof_folds"] == 5
    assert recorded["fusion"] == json.loads((run / "manifest.json").read_text())["fusion"]
    assert 0 <= recorded["oof_accuracy"] <= 1 and np.isfinite(recorded["oof_log_loss"])
    assert f"distilled from {run} (" in out
    assert (manifest["fusion"], manifest["model"]) == (student, model)
    if teacher == "early" and model == "logreg":  # the student's run reports as any run
        report = tmp_path / "report"
        ok(capsys, "report", tmp_path / "run", "--n-boot", "20", "--out", report)
        assert json.loads((report / "report.json").read_text())
