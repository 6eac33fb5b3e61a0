"""The published exit codes of every command."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit status: 0 clean, 1 findings remain, 2 usage, configuration or refusal."""

    CLEAN = 0
    FINDINGS = 1
    USAGE = 2


class UsageError(Exception):
    """A problem with the command line, the configuration or the working tree; exits 2."""
