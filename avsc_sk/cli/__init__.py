"""The ``avsc-sk`` command line: parse arguments, call the library, print one line per error.

Each command lives in its own module ``_<command>.py`` exposing ``add_parser(subparsers)``
(which sets ``func`` on its parser) and importable functions that do the work; this
module only dispatches. An :class:`~avsc_sk.errors.AvscError`, a file the OS cannot
open, or an estimator refusing its parameters while fitting becomes ``avsc-sk: error:
<message>`` and exit status 2; anything else (a bug) is one ``avsc-sk: internal error:`` line and
exit status 1; ``AVSC_DEBUG=1`` shows the traceback instead. Ctrl-C, at any moment, is one line and
exit status 130.

Command modules import scikit-learn and friends inside the functions that run a command,
so ``avsc-sk --help`` and ``avsc-sk <command> --help`` answer at once.
"""

import argparse
import contextlib
import importlib
import os
import re
import sys
import warnings

from ..errors import AvscError, AvscWarning

__all__ = ["main", "build_parser"]

#: Command modules, in the order ``avsc-sk --help`` lists them.
COMMANDS = ("demo", "info", "fit", "predict", "evaluate", "compare", "report", "tune", "synth", "convert", "extract")


def build_parser():
    """The argument parser with every available command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="avsc-sk",
        description="Audio-visual scene classification with scikit-learn on OpenL3 (or classical) embeddings.",
    )
    parser.add_argument("--version", action="version", version=f"avsc-sk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"._{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}._{name}":
                continue  # a command not built yet
            raise
        module.add_parser(sub)
    return parser


def _dotted_overrides(extra):
    """spaCy-style overrides: ``--params.head__C 0.5`` or ``--model=lgbm`` -> ``key=value``."""
    out, i = [], 0
    while i < len(extra):
        item = extra[i]
        if not item.startswith("--"):
            raise ValueError(f"unrecognized argument {item!r}; overrides look like --params.head__C 0.5")
        if "=" in item:
            out.append(item[2:])
            i += 1
        elif i + 1 < len(extra):
            out.append(f"{item[2:]}={extra[i + 1]}")
            i += 2
        else:
            raise ValueError(f"override {item} has no value; write {item} VALUE")
    return out


def _fail(message):
    print(f"avsc-sk: error: {message}", file=sys.stderr)
    return 2


def _interrupted(exc=None):
    _fail(str(exc or "") or "interrupted; outputs already complete were kept, partial ones were discarded")
    return 130


def main(argv=None):
    """Entry point of ``avsc-sk`` and ``python -m avsc_sk``; returns the exit status."""
    try:  # Ctrl-C at any moment, imports included, is one line and status 130
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra:
            if not hasattr(args, "overrides"):
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
            try:
                args.overrides = [*args.overrides, *_dotted_overrides(extra)]
            except ValueError as exc:
                parser.error(str(exc))
        with _blas_threads(), _warning_lines():
            return _dispatch(args)
    except KeyboardInterrupt as exc:
        return _interrupted(exc)


@contextlib.contextmanager
def _warning_lines():
    """Print every :class:`~avsc_sk.errors.AvscWarning` as one ``avsc-sk: warning: <message>`` line.

    Each distinct message once per command; other warnings keep Python's own format.
    """
    shown = set()
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, AvscWarning):
            return default(message, category, filename, lineno, file, line)
        text = str(message).splitlines()[0] if str(message) else category.__name__
        if text not in shown:
            shown.add(text)
            from .._progress import note

            note(f"avsc-sk: warning: {text}")  # above a progress bar, if one is drawn, not through it

    with warnings.catch_warnings():
        warnings.simplefilter("always", AvscWarning)
        warnings.showwarning = show
        yield


def _blas_threads():
    """Limit BLAS to ``$AVSC_BLAS_THREADS`` threads (default 1) for the command's duration.

    Multi-threaded OpenBLAS spins its threads on every call; beside any other busy process,
    or inside joblib's parallel workers, they wait for each other: a fold1 logistic
    regression took 56 s with 2 threads on a loaded 2-core machine and 1.5 s with one.
    """
    from threadpoolctl import threadpool_limits

    raw = os.environ.get("AVSC_BLAS_THREADS", "1")
    try:
        limit = int(raw) if raw not in ("", "0") else None
    except ValueError:
        limit = 1
    return threadpool_limits(limits=limit, user_api="blas")


def _dispatch(args):
    if os.environ.get("AVSC_DEBUG"):
        return args.func(args) or 0
    try:
        return args.func(args) or 0
    except AvscError as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:
        # Whatever the OS refuses (missing, not a folder, permissions, disk full) is about a path the user gave.
        name = getattr(exc, "filename", None) or ""
        where = f"{name}: " if name else ""
        reason = exc.strerror or " ".join(str(exc).split())
        return _fail(f"{where}{reason}; check the path, its permissions and the free disk space")
    except MemoryError:
        return _fail("out of memory; use fewer clips (--clips), fewer frames (--frames) or a smaller model")
    except ValueError as exc:  # sklearn's InvalidParameterError is one too
        message = _estimator_error(exc)
        return _internal(exc) if message is None else _fail(message)
    except Exception as exc:  # a bug: still one line, and the way to see more
        return _internal(exc)


def _internal(exc):
    text = " ".join(str(exc).split())[:300] or "(no message)"
    print(f"avsc-sk: internal error: {type(exc).__name__}: {text} (AVSC_DEBUG=1 shows the traceback; "
          "please report it)", file=sys.stderr)
    return 1


_FIT_METHODS = frozenset({"fit", "_fit", "fit_transform", "_fit_transform", "partial_fit"})


def _estimator_error(exc):
    """One line for an error an estimator raised while fitting, or ``None`` for any other error.

    The traceback tells which estimators were fitting: the innermost one raised (a PCA with
    more components than features, an LGBMClassifier with ``n_estimators=-5``); the outermost
    one is the model the config built, whose ``get_params`` keys are the config's keys.
    """
    fitting = []
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        est = frame.f_locals.get("self") if frame.f_code.co_name in _FIT_METHODS else None
        if est is not None and hasattr(est, "get_params") and (not fitting or fitting[-1] is not est):
            fitting.append(est)
        tb = tb.tb_next
    if not fitting:
        return None
    culprit, model = fitting[-1], fitting[0]
    text = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    keys = _culprit_keys(culprit, model, text)
    fix = f"; change {' or '.join(keys)} in the config" if keys else ""
    return f"{type(culprit).__name__} cannot be fitted: {text[:300]}{fix} (AVSC_DEBUG=1 shows the traceback)"


def _culprit_keys(culprit, model, text):
    # The culprit's parameters the message names ("n_components=128", "The 'C' parameter") or whose
    # value it quotes ("Got -5."), then the model's get_params keys ending in them with the same value.
    own = culprit.get_params(deep=False)
    named = [k for k, v in own.items() if f"{k}={v!r}" in text or f"'{k}'" in text] or [
        k for k, v in own.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        and re.search(rf"\bGot {re.escape(repr(v))}(?![\d.]\d)", text)]
    if model is culprit:
        return named
    deep = model.get_params(deep=True)
    return [key for key, value in deep.items() for name in named
            if key.endswith(f"__{name}") and _same(value, own[name])]


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b
