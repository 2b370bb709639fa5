"""Progress on long work: the hook library functions accept, and the one policy for showing it.

Library functions that run long take ``progress=None``: a callable ``progress(desc=..., total=...,
unit=...)`` that opens a bar (an object with ``update(n)``, ``set_postfix_str(text)`` and
``close()``, usable in a ``with``), which is exactly the signature of ``tqdm.tqdm``. ``None``, the
default, keeps the API silent. Estimators cannot take a hook (it would be a parameter, cloned and
saved with the model), so the functions that fit them pass it on through :func:`using`, and the
estimators open their bars with :func:`task`.

Only one bar is shown at a time: a bar opened while another is open is silent, so the late fusion
fitted inside an auto-selection candidate does not draw over the candidates' bar.

:func:`terminal_progress` is the policy the command line uses: bars on stderr, only when stderr is a
terminal and ``--quiet`` was not given; never on stdout, never in a file.
"""

import contextlib
import contextvars
import functools
import sys

__all__ = ["advance_to", "bar", "note", "task", "terminal_progress", "tick", "using"]

_hook = contextvars.ContextVar("avsc_progress_hook", default=None)
_open = contextvars.ContextVar("avsc_progress_bar", default=None)


class _Silent:
    """The bar of no hook: takes every call, shows nothing."""

    n = 0
    total = None

    def update(self, n=1):
        pass

    def refresh(self):
        pass

    def set_postfix_str(self, text="", refresh=True):
        pass

    def close(self):
        pass


_SILENT = _Silent()


@contextlib.contextmanager
def bar(progress, desc, total=None, unit="it"):
    """A bar from the hook ``progress``; a silent one when it is ``None`` or another bar is open.

    Parameters
    ----------
    progress : callable or None
        The hook (see the module docstring).
    desc : str
        What the work is, e.g. ``"tune"``; the bar's label.
    total : int, optional
        Units of work; ``None`` when not known in advance.
    unit : str, default="it"
        What one unit is (``"fit"``, ``"clip"``, ...).

    Yields
    ------
    bar
        With ``update(n)`` and ``set_postfix_str(text)``; closed on leaving the ``with``.
    """
    if progress is None or _open.get() is not None:
        yield _SILENT
        return
    shown = progress(desc=desc, total=total, unit=unit)
    token = _open.set(shown)
    try:
        yield shown
    finally:
        _open.reset(token)
        shown.close()


@contextlib.contextmanager
def using(progress):
    """Within the ``with``, estimators fitted in this thread report to ``progress`` (see :func:`task`)."""
    token = _hook.set(progress)
    try:
        yield
    finally:
        _hook.reset(token)


def task(desc, total=None, unit="it"):
    """:func:`bar` with the hook :func:`using` set: for estimators, whose ``fit`` cannot take one."""
    return bar(_hook.get(), desc, total, unit)


def tick(n=1):
    """Advance the open bar of this thread by ``n``, if any.

    For work whose steps run inside scikit-learn (a StackingClassifier's member fits). In a
    worker process or thread no bar is open, so parallel fits are counted by the caller instead.
    """
    shown = _open.get()
    if shown is not None:
        shown.update(n)


def advance_to(shown, done, total=None):
    """Move ``shown`` to ``done`` units (of ``total``, when it becomes known): for work that counts itself."""
    if shown is _SILENT:
        return
    if total is not None and shown.total != total:
        shown.total = total
        shown.refresh()
    if done > shown.n:
        shown.update(done - shown.n)


def terminal_progress(quiet=False, stream=None):
    """The command line's hook: tqdm bars on ``stream`` (stderr), or ``None`` to show nothing.

    Bars are shown only when ``stream`` is a terminal and not ``quiet``: redirected to a file or
    a pipe, stderr gets no progress at all (no carriage returns in logs).

    Parameters
    ----------
    quiet : bool, default=False
        ``--quiet``.
    stream : file-like, optional
        Default: ``sys.stderr`` at the time of the call.

    Returns
    -------
    callable or None
        A hook for the library functions' ``progress`` parameter.
    """
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if quiet or not callable(isatty) or not isatty():
        return None
    from tqdm import tqdm

    # leave=False: the command's own summary follows, and a finished bar would repeat it.
    return functools.partial(tqdm, file=stream, leave=False, dynamic_ncols=True, disable=False)


def note(text, stream=None):
    """Write one line to ``stream`` (stderr) without breaking a bar drawn there."""
    stream = sys.stderr if stream is None else stream
    if _open.get() is not None:
        from tqdm import tqdm

        tqdm.write(text, file=stream)
    else:
        print(text, file=stream, flush=True)
