"""The main job end to end on the built-in data: demo, and fit -> predict -> evaluate without --features."""

import re

import pandas as pd
import pytest
from sklearn.metrics import classification_report

from avsc_sk.cli import main
from avsc_sk.data import SCENES


@pytest.fixture(scope="module")
def builtin_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("AVSC_SK_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


def test_demo_prints_the_three_modes_on_synthetic_data(builtin_cache, capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SYNTHETIC data")
    rows = {m: (float(a), float(ll)) for m, a, ll in re.findall(r"^(audio|video|early)\s+([\d.]+)\s+([\d.]+)", out, re.M)}
    assert set(rows) == {"audio", "video", "early"}
    assert rows["audio"][0] == pytest.approx(0.706, abs=0.03)
    assert rows["video"][0] == pytest.approx(0.674, abs=0.03)
    assert rows["early"][0] == pytest.approx(0.797, abs=0.03)
    assert rows["early"][1] < rows["audio"][1] < rows["video"][1]  # log loss: fusion best
    assert re.search(r"demo finished in [\d.]+ s", out)


def test_fit_predict_evaluate_on_builtin_data(builtin_cache, tmp_path, capsys):
    run, pred = tmp_path / "run", tmp_path / "prediction.csv"
    assert main(["fit", "--fusion", "early", "--out", str(run)]) == 0
    assert main(["predict", str(run), "--out", str(pred)]) == 0
    frame = pd.read_csv(pred, sep="\t")
    # SYNTHETIC is marked by a last column, after the probabilities where positional readers look
    assert list(frame.columns) == ["aid", "scene_pred", "scene_label", *SCENES, "data"] and len(frame) == 3645
    assert set(frame["data"]) == {"synthetic"}
    assert list(frame.columns[3:13]) == list(SCENES)
    capsys.readouterr()
    assert main(["evaluate", "--prediction", str(pred)]) == 0
    out = capsys.readouterr().out
    expected = classification_report(frame["scene_label"], frame["scene_pred"], labels=list(SCENES))
    banner, _, out = out.partition("\n")
    assert banner.startswith("SYNTHETIC data")
    assert out.startswith(expected)
    accuracy = float(re.search(r"^accuracy: ([\d.]+)$", out, re.M).group(1))
    assert accuracy == pytest.approx((frame["scene_label"] == frame["scene_pred"]).mean(), abs=5e-4)
    assert re.search(r"^overall log loss: [\d.]+$", out, re.M)


# --------------------------------------------------------------------------- errors, interrupts, start-up

@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    from conftest import small_featureset

    from avsc_sk.data import write_features

    path = tmp_path_factory.mktemp("features") / "small.h5"  # 9 pooled dimensions, 100 training clips
    write_features(path, {"train": small_featureset("train", n_per_class=10), "test": small_featureset("test")})
    return path


def _fit(small_file, tmp_path, capsys, *extra):
    status = main(["fit", "--features", str(small_file), "--split", "train", "--out", str(tmp_path / "run"),
                   *extra])
    return status, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("extra, culprit, key", [
    (["--set", 'params.pca={ estimator = "PCA", n_components = 50 }'],
     "PCA cannot be fitted: n_components=50 must be between 0 and", "pca__n_components"),
])
def test_an_estimator_refusing_its_parameters_is_one_line_naming_the_key(small_file, tmp_path, capsys, extra,
                                                                           culprit, key):
    status, err = _fit(small_file, tmp_path, capsys, *extra)
    assert status == 2 and len(err) == 1
    assert err[0].startswith(f"avsc-sk: error: {culprit}")
    assert err[0].endswith(f"; change {key} in the config (AVSC_DEBUG=1 shows the traceback)")
    assert not (tmp_path / "run").exists()


def test_a_head_parameter_out_of_range_is_one_line_naming_the_key(small_file, tmp_path, capsys):
    # The heads declare their parameter constraints: refused before anything is fitted.
    status, err = _fit(small_file, tmp_path, capsys, "--model", "lgbm", "--params.head__n_estimators", "-5")
    assert status == 2 and len(err) == 1
    assert err[0].startswith("avsc-sk: error: params.head__n_estimators = -5: ") and "Got -5" in err[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("error", [ValueError("not an estimator's error"), TypeError("keys must be str, not tuple"),
                                   KeyError("audio")])
def test_a_bug_is_one_internal_error_line_and_status_1(small_file, tmp_path, monkeypatch, capsys, error):
    # Only errors raised while an estimator fits are the user's to fix; anything else is ours, said in one line.
    import avsc_sk.runs

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(avsc_sk.runs, "fit_run", broken)
    argv = ["fit", "--features", str(small_file), "--split", "train", "--out", str(tmp_path / "run")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"avsc-sk: internal error: {type(error).__name__}: {error} "
                                "(AVSC_DEBUG=1 shows the traceback; please report it)"]
    monkeypatch.setenv("AVSC_DEBUG", "1")
    with pytest.raises(type(error)):
        main(argv)


@pytest.mark.parametrize("how", ["toml", "override"])
def test_a_config_key_typo_names_the_key_and_the_nearest_valid_one(small_file, tmp_path, capsys, how):
    if how == "toml":
        (tmp_path / "c.toml").write_text('fusion = "early"\n[params]\nhead__CC = 0.5\n')
        extra = ["--config", str(tmp_path / "c.toml")]
    else:
        extra = ["--params.head__CC", "0.5"]
    status, err = _fit(small_file, tmp_path, capsys, *extra)
    assert status == 2
    assert err == ["avsc-sk: error: params.head__CC is not a parameter of the FeaturePipeline; did you mean head__C?"]


def test_a_key_without_a_near_spelling_lists_its_step_parameters(small_file, tmp_path, capsys):
    status, err = _fit(small_file, tmp_path, capsys, "--fusion", "late", "--params.audio__head__zzz", "1")
    # The head's first six parameters, alphabetically (LogisticRegressionHead: C and the inner CV's).
    assert status == 2 and err == ["avsc-sk: error: params.audio__head__zzz is not a parameter of the "
                                   "LateFusionClassifier; audio__head takes C, Cs, class_weight, cv, cv_groups, "
                                   "max_iter, ..."]


def test_ctrl_c_while_the_commands_are_imported_is_one_line_and_130(monkeypatch, capsys):
    import avsc_sk.cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(avsc_sk.cli, "build_parser", interrupted)
    assert main(["fit", "--help"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "avsc-sk: error: interrupted; outputs already complete were kept, partial ones were discarded"]


def test_ctrl_c_inside_a_command_is_130(small_file, tmp_path, monkeypatch, capsys):
    import avsc_sk.runs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(avsc_sk.runs, "fit_run", interrupted)
    status, err = _fit(small_file, tmp_path, capsys)
    assert status == 130 and len(err) == 1 and err[0].startswith("avsc-sk: error: interrupted")


@pytest.mark.parametrize("command", ["", "info", "fit", "predict", "evaluate", "compare", "report", "tune", "synth",
                                     "convert", "extract", "demo"])
def test_help_imports_no_scientific_library(command):
    import subprocess
    import sys

    code = ("import sys, runpy\nsys.argv = ['avsc-sk', *sys.argv[1:], '--help']\n"
            "try:\n    runpy.run_module('avsc_sk', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'numpy', 'pandas', 'h5py', "
            "'scipy', 'matplotlib', 'lightgbm', 'skops'})\nprint('HEAVY', heavy)\n")
    done = subprocess.run([sys.executable, "-c", code, *([command] if command else [])], capture_output=True,
                          text=True, check=True)
    assert "usage: avsc-sk" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_the_help_texts_name_the_real_heads_and_fusions():
    from avsc_sk.cli import _common
    from avsc_sk.fusion import FUSION_MODES, FUSIONS
    from avsc_sk.heads import HEADS

    assert (_common.HEADS, _common.FUSIONS, _common.FUSION_MODES) == (HEADS, FUSIONS, FUSION_MODES)


def test_a_key_under_a_step_the_config_sets_is_checked_against_that_step(small_file, tmp_path, capsys):
    (tmp_path / "c.toml").write_text('[params]\npca = { estimator = "PCA", n_components = 4 }\n'
                                     'pca__n_componentz = 3\n')
    status, err = _fit(small_file, tmp_path, capsys, "--config", str(tmp_path / "c.toml"))
    assert status == 2
    assert err == ["avsc-sk: error: params.pca__n_componentz: pca is set to PCA here, which has no parameter "
                   "'n_componentz'; did you mean pca__n_components?"]
