"""What the CLI says on stderr, at the verbosity asked for, and consoles that honour NO_COLOR."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

import msgspec

from migrator.exit_codes import UsageError

if TYPE_CHECKING:
    from rich.console import Console

QUIET, NORMAL, VERBOSE = -1, 0, 1


class Messages(msgspec.Struct, frozen=True):
    """Status on stderr: `-q` keeps only errors, `-v` adds details."""

    verbosity: int = NORMAL

    @classmethod
    def from_flags(cls, quiet: bool, verbose: bool) -> Messages:
        if quiet and verbose:
            raise UsageError("-q and -v cannot be used together")
        return cls(QUIET if quiet else VERBOSE if verbose else NORMAL)

    @property
    def quiet(self) -> bool:
        return self.verbosity <= QUIET

    def status(self, text: str) -> None:
        if self.verbosity >= NORMAL:
            _stderr(text)

    def warn(self, text: str) -> None:
        if self.verbosity >= NORMAL:
            _stderr(f"migrator: warning: {text}")

    def detail(self, text: str) -> None:
        if self.verbosity >= VERBOSE:
            _stderr(text)


def _stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def colour_allowed() -> bool:
    """NO_COLOR (https://no-color.org), set to anything but empty, turns off every style."""
    return not os.environ.get("NO_COLOR")


def console(stream: TextIO | None = None, width: int | None = None) -> Console:
    """A Rich console for tables; Rich is imported only when one is drawn."""
    from rich.console import Console

    return Console(file=stream if stream is not None else sys.stdout, soft_wrap=True, width=width, **style_options())


def style_options() -> dict[str, object]:
    """Rich console options: under NO_COLOR, no colour system at all, so bold and italic go too."""
    return {} if colour_allowed() else {"color_system": None, "no_color": True}
