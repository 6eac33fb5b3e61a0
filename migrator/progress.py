"""A progress bar on stderr for long runs, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

# Runs shorter than this never show a bar; Rich is not even imported for them.
DELAY_SECONDS = 1.0


class ProgressBar:
    """Counts the files done; once a run on a terminal has lasted DELAY_SECONDS, draws a Rich bar."""

    def __init__(self, label: str, stream: TextIO | None = None, delay: float = DELAY_SECONDS) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.enabled = _is_terminal(self.stream)
        self.total = 0
        self.done = 0
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        self._drawn = 0.0

    def start(self, total: int) -> None:
        self.total = total
        self._started = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self._bar is not None:
            # Drawn from this thread, at most ten times a second: no refresh thread runs
            # while a process pool forks its workers.
            if now - self._drawn >= 0.1 or self.done >= self.total:
                self._bar.update(self._task, completed=self.done, refresh=True)
                self._drawn = now
        elif self.enabled and self.done < self.total and now - self._started >= self.delay:
            self._show()

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from migrator.terminal import style_options

        console = Console(file=self.stream, **style_options())
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            auto_refresh=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.label, total=self.total, completed=self.done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
