"""Progress bars: on stderr only when it is a terminal and --quiet is not given; the library silent without a hook."""

import io
import sys

import pytest
from conftest import small_featureset

from avsc_sk import _progress
from avsc_sk.cli import main
from avsc_sk.data import write_features


class FakeTTY(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self):
        return True


class Recorder:
    """A hook that records the bars opened and their updates."""

    def __init__(self):
        self.bars = []

    def __call__(self, desc, total=None, unit="it"):
        record = {"desc": desc, "total": total, "n": 0, "closed": False}
        self.bars.append(record)
        outer = self

        class Bar:
            n = 0

            def update(self, k=1):
                self.n += k
                record["n"] = self.n

            def set_postfix_str(self, text="", refresh=True):
                pass

            def refresh(self):
                record["total"] = self.total

            def close(self):
                record["closed"] = True

        shown = Bar()
        shown.total = total
        outer.last = shown
        return shown


def test_the_policy_shows_bars_on_a_terminal_unless_quiet():
    assert _progress.terminal_progress(stream=io.StringIO()) is None  # a file or a pipe: nothing
    assert _progress.terminal_progress(quiet=True, stream=FakeTTY()) is None
    assert callable(_progress.terminal_progress(stream=FakeTTY()))


def test_one_bar_at_a_time_and_silent_without_a_hook():
    hook = Recorder()
    with _progress.bar(None, "x", total=3) as silent:
        silent.update(1)  # no hook: takes the call, shows nothing
    with _progress.bar(hook, "outer", total=2) as outer:
        with _progress.using(hook), _progress.task("inner", total=5) as inner:
            inner.update(5)  # a bar inside an open one is silent
        outer.update(1)
        _progress.advance_to(outer, 2, total=4)
    assert [b["desc"] for b in hook.bars] == ["outer"]
    assert hook.bars[0]["n"] == 2 and hook.bars[0]["total"] == 4 and hook.bars[0]["closed"]


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "small.h5"
    write_features(path, {"train": small_featureset("train"), "test": small_featureset("test", n_per_class=6)})
    return path


@pytest.mark.parametrize("tty, quiet", [(True, False), (False, False), (True, True)])
def test_fit_late_draws_its_bar_on_a_terminal_only(features, tmp_path, monkeypatch, capsys, tty, quiet):
    err = FakeTTY() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    status = main(["fit", "--fusion", "late", "--features", str(features), "--split", "train", "--eval-split", "",
                   "--out", str(tmp_path / "run"), *(["--quiet"] if quiet else [])])
    assert status == 0, err.getvalue()
    out = capsys.readouterr().out
    shown = "late fusion" in err.getvalue() and "\r" in err.getvalue()
    assert shown == (tty and not quiet), err.getvalue()
    assert "\r" not in out and "late fusion:" not in out  # never on stdout
    assert "\r" not in (tmp_path / "run" / "manifest.json").read_text()  # never in a file


def test_compare_draws_its_bars_on_a_terminal(features, tmp_path, monkeypatch, capsys):
    err = FakeTTY()
    monkeypatch.setattr(sys, "stderr", err)
    status = main(["compare", "--features", str(features), "--train-split", "train", "--eval-split", "test",
                   "--fusions", "audio,weighted", "--n-boot", "20", "--out", str(tmp_path / "cmp")])
    assert status == 0, err.getvalue()
    assert "compare: shared member fits" in err.getvalue() and "compare" in err.getvalue()
    assert "\r" not in capsys.readouterr().out and "\r" not in (tmp_path / "cmp" / "compare.csv").read_text()


def test_report_draws_its_bars_on_a_terminal_and_quiet_silences_them(features, tmp_path, monkeypatch, capsys):
    assert main(["fit", "--fusion", "audio", "--features", str(features), "--split", "train", "--eval-split", "",
                 "--set", "params.head__C=1.0", "--out", str(tmp_path / "run")]) == 0
    for quiet in (False, True):
        err = FakeTTY()
        monkeypatch.setattr(sys, "stderr", err)
        status = main(["report", str(tmp_path / "run"), "--features", str(features), "--n-boot", "20",
                       "--out", str(tmp_path / f"report-{quiet}"), *(["--quiet"] if quiet else [])])
        assert status == 0, err.getvalue()
        assert ("report: predict" in err.getvalue()) == (not quiet), err.getvalue()
    assert "\r" not in capsys.readouterr().out
