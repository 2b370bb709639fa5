"""Nothing lost, safe loading, reproducible outputs.

A run killed (SIGKILL) or interrupted (SIGINT) while it writes its run directory leaves the
previous one byte-identical and loadable; pickled models load only with --trust-pickle; the
same command with the same seed writes byte-identical predictions.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import joblib
import pytest

from avsc_sk._config import load_config
from avsc_sk.cli import main
from avsc_sk.data import write_features
from avsc_sk.errors import RunError
from avsc_sk.runs import feature_warnings, fit_run, load_run

from conftest import small_featureset

ROOT = Path(__file__).resolve().parents[1]

# ``python -m avsc_sk`` with the run's config writer slowed down; it runs after the model file is
# written, so the run directory is then half-made (its temporary directory holds the model) for
# long enough to kill it.
SLOW_SAVE = """
import runpy, signal, sys, time
# A shell's background job (pytest run with &) starts with SIGINT ignored; this test sends it.
signal.signal(signal.SIGINT, signal.default_int_handler)
import avsc_sk.runs._store as store
_dump_config = store.dump_config
def dump_config(*args, **kwargs):
    time.sleep(120)
    return _dump_config(*args, **kwargs)
store.dump_config = dump_config
runpy.run_module("avsc_sk", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp("safety")
    train = small_featureset("train", n_per_class=30)  # 300 clips
    test = small_featureset("test", n_per_class=3)
    return write_features(base / "f.h5", {"train": train, "test": test})


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _old_run(data, tmp_path):
    status = main(["fit", "--features", str(data), "--split", "train", "--fusion", "audio",
                   "--out", str(tmp_path / "run")])
    assert status == 0
    return _snapshot(tmp_path / "run")


def _start_slow_fit(data, tmp_path):
    env = {**os.environ, "AVSC_SK_CACHE": str(tmp_path / "cache")}
    env.pop("AVSC_DEBUG", None)
    argv = ["fit", "--features", str(data), "--split", "train", "--fusion", "early", "--seed", "3",
            "--out", str(tmp_path / "run"), "--force"]
    return subprocess.Popen([sys.executable, "-c", SLOW_SAVE, *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_until_writing(proc, tmp_path):
    """Poll until the new run's temporary directory holds its model: the process is mid-write."""
    deadline = time.monotonic() + 90
    while not list(tmp_path.glob(".run.*.tmp/model.skops")):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"fit ended before writing its run directory: {proc.returncode}\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("fit never started writing its run directory")
        time.sleep(0.02)


def _assert_old_run_intact(tmp_path, before):
    assert _snapshot(tmp_path / "run") == before
    run = load_run(tmp_path / "run")
    assert run.manifest["fusion"] == "audio"  # the old run, not the half-written early one


def test_sigkill_or_ctrl_c_mid_write_keeps_previous_run(data, tmp_path):
    # Both processes run at once: most of their time is Python start-up.
    kill, intr = tmp_path / "kill", tmp_path / "intr"
    before = {}
    for folder in (kill, intr):
        folder.mkdir()
        before[folder] = _old_run(data, folder)
    procs = {folder: _start_slow_fit(data, folder) for folder in (kill, intr)}

    _wait_until_writing(procs[kill], kill)
    procs[kill].send_signal(signal.SIGKILL)
    procs[kill].communicate(timeout=30)
    assert procs[kill].returncode == -signal.SIGKILL
    _assert_old_run_intact(kill, before[kill])
    # A killed process cannot clean up: its temporary directory is left beside, never in place of, the run.
    leftovers = [p.name for p in kill.iterdir() if p.name != "run"]
    assert leftovers and all(name.startswith(".run.") and name.endswith(".tmp") for name in leftovers)

    # Ctrl-C: one error line, exit status 130, the old run kept and the temporary directory removed.
    _wait_until_writing(procs[intr], intr)
    procs[intr].send_signal(signal.SIGINT)
    out, err = procs[intr].communicate(timeout=30)
    assert procs[intr].returncode == 130, err
    assert err.splitlines() == ["avsc-sk: error: interrupted; outputs already complete were kept, "
                                "partial ones were discarded"], err
    _assert_old_run_intact(intr, before[intr])
    assert sorted(p.name for p in intr.iterdir()) == ["run"]


def test_crash_mid_write_keeps_previous_run(data, tmp_path, monkeypatch):
    import avsc_sk.runs._store as store

    before = _old_run(data, tmp_path)

    def broken_dump_config(*a, **k):  # called once the new model file is in the temporary directory
        assert list(tmp_path.glob(".run.*.tmp/model.skops"))
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "dump_config", broken_dump_config)
    monkeypatch.setenv("AVSC_DEBUG", "1")  # the bug itself, not its one-line report
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["fit", "--features", str(data), "--split", "train", "--out", str(tmp_path / "run"), "--force"])
    _assert_old_run_intact(tmp_path, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_existing_prediction_kept_without_force(data, tmp_path, capsys):
    _old_run(data, tmp_path)
    (tmp_path / "p.csv").write_text("my predictions\n")
    assert main(["predict", str(tmp_path / "run"), "--features", str(data), "--out", str(tmp_path / "p.csv")]) == 2
    assert (tmp_path / "p.csv").read_text() == "my predictions\n"
    assert "--force" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "run"), "--features", str(data), "--out", str(tmp_path / "p.csv"),
                 "--force"]) == 0
    assert (tmp_path / "p.csv").read_text().startswith("aid\tscene_pred\tscene_label\tairport")


# LightGBM single-threaded: its OpenMP threads crawl on a busy machine (30 s instead of 0.1 s on 2 cores).
@pytest.mark.parametrize("model, params", [
    ("logreg", []),
    ("mlp", ["--set", "params.head__hidden_layer_sizes=[16]", "--set", "params.head__max_iter=1000"]),
    ("lgbm", ["--set", "params.head__n_estimators=20", "--set", "params.head__n_jobs=1"]),
])
def test_same_seed_gives_byte_identical_predictions(model, params, data, tmp_path, capsys):
    files = []
    for i in range(2):
        run, pred = tmp_path / f"run{i}", tmp_path / f"pred{i}.csv"
        assert main(["fit", "--features", str(data), "--split", "train", "--model", model, "--seed", "7",
                     *params, "--out", str(run)]) == 0
        assert main(["predict", str(run), "--features", str(data), "--out", str(pred)]) == 0
        files.append(pred.read_bytes())
    assert files[0] == files[1]
    assert files[0].count(b"\n") == 31  # header + 30 test clips
    assert "warning" not in capsys.readouterr().err


def test_trust_pickle(data, tmp_path, capsys):
    _old_run(data, tmp_path)
    run = load_run(tmp_path / "run")
    assert main(["predict", str(tmp_path / "run"), "--features", str(data), "--out", str(tmp_path / "a.csv")]) == 0
    joblib.dump(run.model, tmp_path / "run" / "model.joblib")
    (tmp_path / "run" / "model.skops").unlink()
    capsys.readouterr()

    with pytest.raises(RunError, match=r"model\.joblib is a pickle.*--trust-pickle"):
        load_run(tmp_path / "run")
    assert main(["predict", str(tmp_path / "run"), "--features", str(data), "--out", str(tmp_path / "b.csv")]) == 2
    err = capsys.readouterr().err
    assert "model.joblib" in err and "--trust-pickle" in err and not (tmp_path / "b.csv").exists()

    assert load_run(tmp_path / "run", trust_pickle=True).from_pickle
    assert main(["predict", str(tmp_path / "run"), "--features", str(data), "--out", str(tmp_path / "b.csv"),
                 "--trust-pickle"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("avsc-sk: warning: loaded ") and "model.joblib" in err[0]
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_trust_pickle_still_checks_the_model(data, tmp_path):
    _old_run(data, tmp_path)
    joblib.dump({"not": "a model"}, tmp_path / "run" / "model.pkl")
    (tmp_path / "run" / "model.skops").unlink()
    with pytest.raises(RunError, match=r"model\.pkl holds a dict, not a fitted classifier"):
        load_run(tmp_path / "run", trust_pickle=True)


def test_predict_warns_about_features_read_unlike_training(data, tmp_path, capsys):
    # Trained with the default --max-frames 96 on 4-frame clips; predicting with --max-frames 4 gives the
    # same layout, so it is a warning, and the training split itself is a second one.
    _old_run(data, tmp_path)
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "run"), "--features", str(data), "--split", "train",
                 "--max-frames", "4", "--out", str(tmp_path / "p.csv")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("avsc-sk: warning: ") for line in err)
    assert "max_frames=96" in err[0] and "--max-frames 96" in err[0]
    assert "300 of the 300 clips" in err[1] and "in-sample" in err[1]
    # Another frame count is predicted from frames spread over each clip, with a warning saying so.
    assert main(["predict", str(tmp_path / "run"), "--features", str(data), "--max-frames", "2",
                 "--out", str(tmp_path / "q.csv")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert "f.h5 hold clips of another frame count" in err[0] and "audio 2 instead of 4" in err[0]


def test_feature_warnings_synthetic_mismatch():
    train = small_featureset("train", n_per_class=3)
    config = load_config()
    config.update(fusion="audio")
    _, manifest = fit_run(config, train, source="x.h5", max_frames=96)
    test = small_featureset("test", n_per_class=1)
    assert feature_warnings(manifest, test, max_frames=96) == []
    test.synthetic = True
    (warning,) = feature_warnings(manifest, test, max_frames=96)
    assert "trained on real data" in warning and "SYNTHETIC" in warning
