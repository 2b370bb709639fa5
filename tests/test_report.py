"""Report tables against scikit-learn, significance markers, conflicts, files, plots, HTML in a browser."""

import json
import os
import shutil
import struct
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, log_loss, precision_recall_fscore_support

from avsc_sk.data import SCENES
from avsc_sk.errors import DataError, OutputExistsError
from avsc_sk.evaluation import expected_calibration_error, prediction_frame, reference_log_loss
from avsc_sk.report import (
    DPI,
    FIGSIZES,
    build_report,
    conflict_table,
    infer_kinds,
    plot_confusion_matrix,
    top_disagreements,
    write_report,
)

K = len(SCENES)
NAMES = np.asarray(SCENES, dtype=object)
CITIES = ("lyon", "paris", "vienna")


def _clips(n, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    city = rng.integers(0, len(CITIES), n)
    aids = [f"{SCENES[t]}-{CITIES[c]}-{i}-{i % 7}" for i, (t, c) in enumerate(zip(y, city))]
    return aids, y


def _proba(pred, seed, conf=0.6):
    """Probabilities whose argmax is ``pred``, with a little noise."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(K), len(pred)) * (1 - conf)
    P[np.arange(len(pred)), pred] += conf
    return P


def _corrupt(y, rate, seed):
    rng = np.random.default_rng(seed)
    pred = y.copy()
    wrong = rng.random(len(y)) < rate
    pred[wrong] = (y[wrong] + 1 + rng.integers(0, K - 1, wrong.sum())) % K
    return pred


@pytest.fixture(scope="module")
def three_runs():
    """audio (about 30% wrong), video (60% wrong), and 'early' = audio with every bus error fixed."""
    aids, y = _clips(1500)
    pa = _corrupt(y, 0.3, 1)
    pv = _corrupt(y, 0.6, 2)
    # audio gets 18 bus clips wrong, 2 into each other scene; fusion fixes exactly those. The bus F1
    # difference is then large, and every other scene's only a 2-clip precision change: not significant
    bus = np.flatnonzero(y == 1)
    pa[bus] = 1
    pa[bus[:18]] = [k for k in range(K) if k != 1] * 2
    pf = pa.copy()
    pf[bus] = 1
    runs = {name: prediction_frame(aids, _proba(p, s), SCENES, NAMES[y])
            for name, p, s in (("early", pf, 3), ("audio", pa, 4), ("video", pv, 5))}
    return runs, y, {"early": pf, "audio": pa, "video": pv}


@pytest.fixture(scope="module")
def report(three_runs):
    return build_report(three_runs[0], synthetic=True, n_boot=300, seed=0)


def test_per_class_and_side_by_side_match_sklearn(report, three_runs):
    _, y, preds = three_runs
    side = report.tables["side_by_side"]
    for name, pred in preds.items():
        p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(K), zero_division=0)
        table = report.tables[f"per_class/{name}"]
        np.testing.assert_allclose(table.loc[list(SCENES), "precision"], p)
        np.testing.assert_allclose(table.loc[list(SCENES), "recall"], r)
        np.testing.assert_allclose(table.loc[list(SCENES), "f1-score"], f)
        np.testing.assert_array_equal(table.loc[list(SCENES), "support"], s)
        assert table.loc["accuracy", "f1-score"] == pytest.approx(accuracy_score(y, pred))
        assert table.loc["macro avg", "f1-score"] == pytest.approx(f.mean())
        assert table.loc["weighted avg", "recall"] == pytest.approx(np.average(r, weights=s))
        np.testing.assert_allclose(side[f"{name}-F"], f)
        np.testing.assert_allclose(side[f"{name}-P"], p)
        assert report.tables["summary"].loc[name, "accuracy"] == pytest.approx(accuracy_score(y, pred))
        assert report.tables["summary"].loc[name, "log_loss_ref3"] == pytest.approx(
            reference_log_loss(None, report.runs[name]))
        P = report.runs[name][list(SCENES)].to_numpy()
        assert report.tables["summary"].loc[name, "log_loss"] == pytest.approx(
            log_loss(report.runs[name]["scene_label"], P, labels=list(SCENES)), rel=1e-12)
    assert list(report.tables["per_class/audio"].index[-4:]) == ["accuracy", "macro avg", "weighted avg",
                                                                   "overall log loss"]


def test_significance_markers_on_constructed_case(report, three_runs):
    side = report.tables["side_by_side"]
    assert report.reference == "early"
    sig = side["sig early-audio"]
    assert sig["bus"] and not sig.drop("bus").any()
    # the runs differ only on bus clips, so every other scene's recall difference is exactly zero
    comp = report.tables["comparisons"]
    rec = comp[(comp.run_b == "audio") & (comp.metric == "recall")].set_index("scene")
    assert rec.loc["bus", "diff"] == pytest.approx(18 / np.sum(three_runs[1] == 1))
    assert (rec.drop("bus")["diff"] == 0).all()
    assert side.loc["bus", "dF early-audio"] == pytest.approx(side.loc["bus", "early-F"] - side.loc["bus", "audio-F"])
    # video is far worse everywhere: all of early-video is significant
    assert side["sig early-video"].all()
    mc = report.tables["mcnemar"].set_index("run_b")
    n_fixed = int(np.sum((three_runs[1] == 1) & (three_runs[2]["audio"] != 1)))
    assert (mc.loc["audio", "n_a_only"], mc.loc["audio", "n_b_only"]) == (n_fixed, 0)


def test_conflict_table_counts_by_hand():
    aids = ["bus-lyon-1-1", "bus-lyon-1-2", "bus-lyon-1-3", "tram-lyon-2-1", "tram-lyon-2-2"]
    y = NAMES[[1, 1, 1, 9, 9]]
    audio = prediction_frame(aids, _proba(np.array([1, 1, 2, 9, 0]), 0), SCENES, y)
    video = prediction_frame(aids, _proba(np.array([1, 3, 1, 0, 9]), 1), SCENES, y)
    fusion = prediction_frame(aids, _proba(np.array([1, 1, 2, 9, 9]), 2), SCENES, y)
    t = conflict_table(audio, video, {"late": fusion})
    assert t.loc["bus"].to_dict() == {
        "n_clips": 3, "disagree": 2, "disagree_rate": pytest.approx(2 / 3), "audio_right": 1, "video_right": 1,
        "neither_right": 0, "late picks right": 1, "late pick rate": 0.5}
    assert t.loc["tram", "late picks right"] == 2 and t.loc["tram", "late pick rate"] == 1.0
    assert t.loc["all", "disagree"] == 4 and t.loc["airport", "n_clips"] == 0
    top = top_disagreements(audio, video, {"late": fusion}, k=2)
    assert len(top) == 2 and set(top["aid"]) <= set(aids[1:])
    assert top["distance"].is_monotonic_decreasing
    assert list(top.columns[-2:]) == ["late_pred", "late_p"]


def test_city_and_calibration_tables(report, three_runs):
    _, y, preds = three_runs
    city = report.tables["city"]
    aids = report.runs["audio"]["aid"]
    cities = aids.str.split("-").str[1].to_numpy()
    for c in CITIES:
        m = cities == c
        assert city.loc[c, "n_clips"] == m.sum()
        assert city.loc[c, "video accuracy"] == pytest.approx(accuracy_score(y[m], preds["video"][m]))
    assert city.loc["all", "early accuracy"] == pytest.approx(accuracy_score(y, preds["early"]))
    cal = report.tables["calibration"]
    assert cal.loc["audio", "ece"] == pytest.approx(expected_calibration_error(None, report.runs["audio"]))
    assert report.tables["reliability/audio"]["count"].sum() == len(y)


def test_kinds_and_errors(three_runs):
    assert infer_kinds(["early", "audio_lgbm", "Video", "late"]) == {
        "early": "fusion", "audio_lgbm": "audio", "Video": "video", "late": "fusion"}
    assert infer_kinds(["a", "b"], {"a": "audio"}) == {"a": "audio", "b": "fusion"}
    runs = three_runs[0]
    with pytest.raises(DataError, match="different clips"):
        build_report({"audio": runs["audio"], "video": runs["video"].iloc[:-1]}, plots=False, n_boot=10)
    with pytest.raises(DataError, match="no scene_label"):
        build_report({"early": runs["early"].drop(columns="scene_label")}, plots=False, n_boot=10)
    single = build_report({"early": runs["early"]}, plots=False, n_boot=20)
    assert "conflicts" not in single.tables and any("conflict" in n for n in single.notes)
    assert single.numbers["synthetic"] is False


def _png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "rep"
    return out, write_report(report, out)


def test_write_report_files(written, report):
    out, files = written
    for name in ("per_class.csv", "per_class.md", "side_by_side.csv", "side_by_side.md", "conflicts.csv",
                 "city.csv", "calibration.csv", "report.md", "report.html", "report.json", "f1_bars.png",
                 "reliability.png", "confusion_early.png", "confusion_audio.png", "confusion_video.png"):
        assert name in files and (out / name).is_file()
    for name, kind in (("f1_bars.png", "f1_bars"), ("reliability.png", "reliability"),
                       ("confusion_audio.png", "confusion")):
        w, h = FIGSIZES[kind]
        assert _png_size((out / name).read_bytes()) == (int(w * DPI), int(h * DPI))
    assert (out / "report.md").read_text().splitlines()[2].startswith("> **SYNTHETIC data")
    assert "SYNTHETIC data" in (out / "per_class.md").read_text().splitlines()[2]
    numbers = json.loads((out / "report.json").read_text())
    assert numbers["synthetic"] is True
    assert numbers["runs"]["audio"]["scores"]["accuracy"] == pytest.approx(
        report.tables["summary"].loc["audio", "accuracy"])
    per_class = pd.read_csv(out / "per_class.csv", index_col=[0, 1])
    assert per_class.loc[("video", "tram"), "recall"] == pytest.approx(
        report.tables["per_class/video"].loc["tram", "recall"])
    assert "| bus |" in (out / "side_by_side.md").read_text()
    bus_row = next(ln for ln in (out / "side_by_side.md").read_text().splitlines() if ln.startswith("| bus |"))
    assert bus_row.split("|")[-3].strip().endswith("*")  # dF early-audio marked
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 5 and "src=\"http" not in html
    with pytest.raises(OutputExistsError):
        write_report(report, out)


def test_write_report_force_replaces(tmp_path, three_runs):
    rep = build_report({"audio": three_runs[0]["audio"]}, n_boot=10, plots=False)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "old.txt").write_text("x")
    with pytest.raises(OutputExistsError):
        write_report(rep, tmp_path / "r")
    assert (tmp_path / "r" / "old.txt").exists()
    files = write_report(rep, tmp_path / "r", force=True)
    assert not (tmp_path / "r" / "old.txt").exists() and "report.html" in files
    assert not any(f.endswith(".png") for f in files)


def test_html_escapes_run_names(tmp_path, three_runs):
    runs = {"<script>alert(1)</script>": three_runs[0]["early"], "audio": three_runs[0]["audio"]}
    rep = build_report(runs, n_boot=20, title="A & B <report>")
    write_report(rep, tmp_path / "r")
    html = (tmp_path / "r" / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>A &amp; B &lt;report&gt;</title>" in html
    assert "SYNTHETIC" not in html
    assert (tmp_path / "r" / "confusion__script_alert_1_script_.png").is_file()


def test_plot_functions_draw_on_given_axes(three_runs):
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert plot_confusion_matrix(three_runs[0]["audio"], ax=ax) is fig
    assert len(ax.images) == 1
    cm = ax.images[0].get_array()
    recall = np.diag(cm)
    y, pred = three_runs[1], three_runs[2]["audio"]
    np.testing.assert_allclose(recall, [np.mean(pred[y == k] == k) for k in range(K)])


def _chromium_console(path, tmp_path):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it): "
                    "the HTML report was not checked in a browser")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=2000", "--dump-dom", path.resolve().as_uri()]
    env = {**os.environ, "HOME": str(tmp_path)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env=env)
    errors = [ln for ln in proc.stderr.splitlines()
              if ("CONSOLE" in ln or "Uncaught" in ln or "Refused to" in ln) and "chrome-extension" not in ln]
    return proc.stdout, errors


def test_html_renders_in_headless_chromium_without_console_errors(tmp_path, written):
    dom, errors = _chromium_console(written[0] / "report.html", tmp_path)
    assert "SYNTHETIC data" in dom and "Conflict analysis" in dom and dom.count("<img") == 5
    assert errors == []
    # the same check catches a page with an error (so it can fail)
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>undefined_function_xyz();</script></body></html>")
    _, errors = _chromium_console(bad, tmp_path)
    assert any("undefined_function_xyz" in e for e in errors)


def test_report_cli_on_saved_runs(tmp_path, monkeypatch, capsys):
    runs_mod = pytest.importorskip("avsc_sk.runs", reason="avsc_sk.runs is not built yet")
    from avsc_sk._config import apply_overrides, load_config
    from avsc_sk.cli import _report, main

    from conftest import small_featureset

    train, test = small_featureset("train"), small_featureset("test", n_per_class=6)
    for fusion in ("early", "audio", "video"):
        config = apply_overrides(load_config(), [f"fusion={json.dumps(fusion)}"])
        model, manifest = runs_mod.fit_run(config, train)
        runs_mod.save_run(tmp_path / fusion, model, manifest)
    monkeypatch.setattr(_report, "load_split", lambda *a, **k: test)
    out = tmp_path / "report"
    argv = ["report", str(tmp_path / "early"), str(tmp_path / "audio"), str(tmp_path / "video"),
            "--out", str(out), "--n-boot", "50"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "early" in printed
    numbers = json.loads((out / "report.json").read_text())
    assert set(numbers["runs"]) == {"early", "audio", "video"} and "conflicts" in numbers
    frame = runs_mod.predict_frame(runs_mod.load_run(tmp_path / "audio"), test)
    assert numbers["runs"]["audio"]["scores"]["accuracy"] == pytest.approx(
        np.mean(frame["scene_pred"] == frame["scene_label"]))
    assert main(argv) == 2  # exists, no --force
    assert "already exists" in capsys.readouterr().err


def test_evaluate_cli_prints_sklearn_report(tmp_path, capsys):
    from sklearn.metrics import classification_report

    from avsc_sk.cli import main
    from avsc_sk.evaluation import write_prediction

    meta = pd.read_csv("avsc_sk/datasets/_meta/fold1_evaluate.csv", sep="\t").iloc[::30]
    aids = meta["filename_audio"].str.slice(6, -4).tolist()
    y = np.array([SCENES.index(s) for s in meta["scene_label"]])
    pred = _corrupt(y, 0.3, 0)
    P = _proba(pred, 0)
    write_prediction(tmp_path / "p.csv", prediction_frame(aids, P, SCENES))
    assert main(["evaluate", "--prediction", str(tmp_path / "p.csv"),
                 "--label", "avsc_sk/datasets/_meta/fold1_evaluate.csv"]) == 0
    text = capsys.readouterr().out
    expected = classification_report(y, pred, target_names=list(SCENES), zero_division=0)
    assert text.startswith(expected + "\n  \naccuracy: ")
    assert text.splitlines()[-3] == f"accuracy: {accuracy_score(y, pred):.3f}"
    Q = np.clip(np.round(P, 3), 1e-15, 1)
    Q /= Q.sum(1, keepdims=True)
    assert text.splitlines()[-2] == f"overall log loss: {-np.mean(np.log(Q[np.arange(len(y)), y])):.3f}"
    # then one line naming what that log loss is: the file's precision, 3 decimals = the reference figure
    assert text.splitlines()[-1].startswith("note: overall log loss is over the file's probabilities as printed "
                                            "(3 decimals, the reference format): log_loss_ref3;")
    # no --label and no scene_label column: one clear error line
    assert main(["evaluate", "--prediction", str(tmp_path / "p.csv")]) == 2
    assert "no scene_label column" in capsys.readouterr().err


def test_missing_modality_clips_are_counted(three_runs):
    rep = build_report(three_runs[0], n_boot=20, plots=False, missing={"audio": 0, "video": 7})
    assert rep.numbers["missing_modality"] == {"video": 7}
    assert any("7 without video" in note for note in rep.notes)
    assert "missing_modality" not in build_report(three_runs[0], n_boot=20, plots=False).numbers


# -- issue 10.12 and 10.15 ---------------------------------------------------------------------
def test_report_csvs_of_synthetic_data_end_with_a_data_column(written, report):
    out, files = written
    csvs = [f for f in files if f.endswith(".csv")]
    assert {"per_class.csv", "summary.csv", "reliability.csv", "side_by_side.csv"} <= set(csvs)
    for name in csvs:
        table = pd.read_csv(out / name)
        assert table.columns[-1] == "data" and set(table["data"]) == {"synthetic"}, name
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    assert summary.loc["audio", "accuracy"] == pytest.approx(report.tables["summary"].loc["audio", "accuracy"])


def test_report_csvs_of_real_data_have_no_data_column(tmp_path, three_runs):
    write_report(build_report({"audio": three_runs[0]["audio"]}, n_boot=10, plots=False), tmp_path / "r")
    assert "data" not in pd.read_csv(tmp_path / "r" / "summary.csv").columns


def test_f1_legend_is_outside_the_bars(report):
    fig = report.figures["f1_bars"]
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    frame = ax.get_window_extent()
    assert legend.y1 <= frame.y0  # below the axes, over no bar


def test_reliability_diagram_does_not_join_sparse_bins():
    from avsc_sk.evaluation import reliability_table
    from avsc_sk.report import MIN_BIN_CLIPS, plot_reliability

    aids, y = _clips(200, seed=3)
    frame = prediction_frame(aids, _proba(y, 1, conf=0.5), SCENES, NAMES[y])
    frame.loc[:2, list(SCENES)] = 0.0
    frame.loc[:2, "airport"] = 1.0  # three clips at confidence 1: a bin of 3
    table = reliability_table(None, frame, n_bins=15)
    sparse = (table["count"] > 0) & (table["count"] < MIN_BIN_CLIPS)
    assert sparse.any() and (table["count"] >= MIN_BIN_CLIPS).any()
    fig = plot_reliability({"run": table})
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    joined = lines["run"]
    np.testing.assert_allclose(joined.get_xdata(), table.loc[table["count"] >= MIN_BIN_CLIPS, "confidence"])
    hollow = [ln for ln in fig.axes[0].get_lines() if ln.get_markerfacecolor() == "none" and len(ln.get_xdata())]
    assert len(hollow) == 1 and hollow[0].get_linestyle() == "None"
    np.testing.assert_allclose(hollow[0].get_xdata(), table.loc[sparse, "confidence"])
    assert f"bin of fewer than {MIN_BIN_CLIPS} clips (not joined)" in lines


def test_rounded_zero_prints_without_a_minus_sign():
    from avsc_sk.report import markdown_table
    from avsc_sk.report._build import _marked

    assert "-0.000" not in markdown_table(pd.DataFrame({"x": [-0.0002, 0.0004]}))
    side = pd.DataFrame({"dF a-b": [-0.0002, -0.002], "sig a-b": [False, True]})
    assert _marked(side, "a")["dF a-b"].tolist() == ["+0.000", "-0.002*"]


def test_holm_adjusts_like_the_textbook():
    from avsc_sk.evaluation import holm

    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, then made non-decreasing
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])


def test_per_scene_markers_use_holm(report):
    from avsc_sk.evaluation import holm

    comp = report.tables["comparisons"]
    f1 = comp[(comp["metric"] == "f1-score") & (comp["scene"] != "all")]
    np.testing.assert_allclose(f1["p_holm"], holm(f1["p_value"]))
    side = report.tables["side_by_side"]
    for other in ("audio", "video"):
        rows = f1[f1["run_b"] == other].set_index("scene").loc[list(SCENES)]
        np.testing.assert_array_equal(side[f"sig early-{other}"], rows["p_holm"] < report.alpha)
    assert "Holm's correction for the 20 per-scene comparisons" in _section_text(report)


def _section_text(report):
    from avsc_sk.report._build import _sections

    return " ".join(text for _, blocks in _sections(report, set()) for kind, text in blocks if kind == "text")
