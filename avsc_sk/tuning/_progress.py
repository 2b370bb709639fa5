"""The progress line a long search prints on stderr."""

import sys

import numpy as np


class ProgressLine:
    """A one-line progress report on stderr: configurations done, elapsed, estimated time left.

    Silent for the first ``after_s`` seconds, so short searches print nothing; on a
    terminal the line is rewritten in place, elsewhere a line at most every ``every_s`` seconds.
    """

    def __init__(self, stream=None, *, after_s=2.0, every_s=10.0):
        self.stream = stream if stream is not None else sys.stderr
        self.after_s, self.every_s = after_s, every_s
        self._last = None
        self._shown = False
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done, total, elapsed):
        if elapsed < self.after_s and (total is None or done < total):
            return
        finished = total is not None and done >= total
        if not self._tty and not finished and self._last is not None and elapsed - self._last < self.every_s:
            return
        self._last = elapsed
        if total:
            left = elapsed / done * (total - done) if done else float("nan")
            text = f"tune: {done}/{total} configurations, {_fmt(elapsed)} elapsed, about {_fmt(left)} left"
        else:
            text = f"tune: {done} configurations, {_fmt(elapsed)} elapsed"
        self.stream.write(("\r" + text.ljust(78)) if self._tty else text + "\n")
        self._shown = True
        self.stream.flush()

    def close(self):
        """End the line on a terminal."""
        if self._tty and self._shown:
            self.stream.write("\n")
            self.stream.flush()


def _fmt(seconds):
    if not np.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
