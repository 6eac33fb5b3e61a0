"""The published exit codes of every command."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit status: 0 clean, 1 findings remain, 2 usage, configuration or refusal;
    130 interrupted (Ctrl-C), the shell's code for a process that SIGINT ended."""

    CLEAN = 0
    FINDINGS = 1
    USAGE = 2
    INTERRUPTED = 130


class UsageError(Exception):
    """A problem with the command line, the configuration or the working tree; exits 2."""
