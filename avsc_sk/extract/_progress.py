"""The progress an extraction prints: clips done, clips/s, time left, skipped clips."""

import math
import sys
import time

__all__ = ["TextProgress"]


class TextProgress:
    """Progress on a text stream: clips done, clips/s, time left; one line per skipped clip.

    On a terminal the status line is redrawn in place; otherwise a line is written at most
    every ``every`` seconds, so logs stay short.
    """

    def __init__(self, stream=None, every=10.0):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.every = 0.5 if self.tty else every
        self._last = -math.inf
        self._t0 = None

    def start(self, total, already):
        self._t0 = time.perf_counter()
        self.total = total
        if already:
            self._line(f"extract: resuming, {already} clips already in the output\n")

    def skipped(self, clip_id, reason):
        self._line(f"{chr(13) if self.tty else ''}extract: skipped {clip_id}: {reason}\n")

    def update(self, done, n_skipped, final=False):
        now = time.perf_counter()
        if not final and now - self._last < self.every:
            return
        self._last = now
        elapsed = max(now - self._t0, 1e-9)
        rate = done / elapsed
        left = (self.total - done) / rate if rate > 0 else math.inf
        eta = "--:--" if not math.isfinite(left) else time.strftime("%H:%M:%S", time.gmtime(left))
        text = (f"extract: {done}/{self.total} clips  {rate:.2f} clips/s  left {eta}"
                f"{f'  ({n_skipped} skipped)' if n_skipped else ''}")
        self._line(f"\r{text}" if self.tty else f"{text}\n", end_line=final and self.tty)

    def _line(self, text, end_line=False):
        self.stream.write(text + ("\n" if end_line else ""))
        self.stream.flush()
