"""The result cache under `<root>/.migrator/cache/`: one file's findings, reused while nothing they depend on changes.

A run's key covers the tool (version and its own source files), the rule files' bytes, the
config and the project facts; an entry's key adds the file's path, phase and content hash.
Entries are written atomically (temp file, then rename), so concurrent runs never see half an
entry; an entry that cannot be read back is treated as missing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import operator
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

import migrator
from migrator.results import FileResult, Finding, Status
from migrator.writer import atomic_write, oldest_beyond, state_folder, unwritable_state

if TYPE_CHECKING:
    from migrator.analysis.facts import CodebaseFacts
    from migrator.config import Config
    from migrator.project import ProjectFacts
    from migrator.rules import Rule

CACHE_DIR = Path(".migrator") / "cache"
FORMAT = 1
# How many run keys' folders are kept (other configs, rules or tool versions), the current one among them.
KEEP_RUNS = 4
_CACHED_STATUSES = frozenset({Status.UNCHANGED, Status.FAILED})
_NOT_CACHED = ("original", "rewritten", "diff")
# A finding's fields in order (all plain values).
_finding_row = operator.attrgetter(*Finding.__struct_fields__)


class ResultCache(msgspec.Struct, frozen=True):
    """The entries of one run key: a folder of small JSON files named by their entry key."""

    folder: Path
    # The facts the run key covers all but which module binds what: a result that asked is
    # checked against them when it is loaded.
    codebase: CodebaseFacts | None = None

    @classmethod
    def open(cls, root: Path, config: Config, rules: Sequence[Rule], facts: ProjectFacts) -> ResultCache:
        """The cache for a scan of `root` under this config, rule set and facts."""
        return cls(root / CACHE_DIR / run_key(config, rules, facts), facts.codebase)

    def key(self, relpath: str, phase: str, raw: bytes) -> str:
        """An entry's key: the file's path, phase and content."""
        digest = hashlib.blake2b(raw, digest_size=20)
        digest.update(f"\0{relpath}\0{phase}".encode())
        return digest.hexdigest()

    def load(self, key: str, relpath: str, phase: str) -> FileResult | None:
        """The cached result, or None when absent, unreadable or not for this file."""
        try:
            result = decode_result((self.folder / key).read_bytes())
        except (OSError, ValueError):  # msgspec's DecodeError is a ValueError
            return None
        if result.path != relpath or result.phase != phase:
            return None
        return result if self.still_holds(result) else None

    def still_holds(self, result: FileResult) -> bool:
        """Whether what the result asked of other modules gets the same answers now."""
        return not result.depends or (self.codebase is not None and self.codebase.still_answers(result.depends))

    def store(self, key: str, result: FileResult) -> None:
        """Keep a result for later runs.

        A cache that cannot be written (no permission, a file where its folder goes, a full
        disk) stops the run with a UsageError rather than silently slowing every later run;
        a folder another run just pruned only loses this entry.
        """
        data = encode_result(result)
        if data is None:
            return
        try:
            self._prepare()
            atomic_write(self.folder / key, msgspec.json.encode(data), durable=False)
        except FileNotFoundError:
            return
        except OSError as error:
            raise unwritable_state(f"the result cache in {self.folder.parent}", error) from None

    def _prepare(self) -> None:
        if self.folder.is_dir():
            return
        state_folder(self.folder)
        _prune(self.folder.parent, keep=self.folder.name)


def encode_result(result: FileResult) -> dict[str, object] | None:
    """A result as JSON data; None for what is not worth keeping (rewrites, unknown values)."""
    if result.status not in _CACHED_STATUSES or any(getattr(result, name) is not None for name in _NOT_CACHED):
        return None
    data: dict[str, object] = {}
    for name in FileResult.__struct_fields__:
        value = getattr(result, name)
        if name in _NOT_CACHED:
            continue
        if name == "status":
            value = value.value
        elif name == "findings":
            value = [_finding_row(finding) for finding in value]
        elif name == "depends":
            value = [list(asked) for asked in value]
        elif isinstance(value, tuple) and all(isinstance(item, str) for item in value):
            value = list(value)
        elif value is not None and not isinstance(value, (str, int, bool)):
            return None
        data[name] = value
    return data


def decode_result(encoded: bytes | msgspec.Raw) -> FileResult:
    """A result from the JSON text of what `encode_result` gave; a ValueError (msgspec's
    DecodeError) when it is not one."""
    return _result_decoder().decode(encoded)


@functools.cache
def _result_decoder() -> msgspec.json.Decoder[FileResult]:
    # Built on first use (0.45 ms): a run without the cache decodes no result.
    return msgspec.json.Decoder(FileResult)


def _prune(base: Path, keep: str) -> None:
    """Remove the oldest run folders beyond KEEP_RUNS; another run may be removing them too."""
    for entry in oldest_beyond(base, keep, KEEP_RUNS, is_dir=True):
        try:
            for child in os.scandir(entry.path):
                with contextlib.suppress(OSError):
                    os.unlink(child.path)
            os.rmdir(entry.path)
        except OSError:
            continue


def run_key(config: Config, rules: Sequence[Rule], facts: ProjectFacts) -> str:
    """What every cached result of a run depends on besides the file itself."""
    return setup_key(config, rules, facts.fingerprint())


def setup_key(config: Config, rules: Sequence[Rule], *parts: str) -> str:
    """A digest of the tool, the config, the rule files and `parts`."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{FORMAT}\0{migrator.__version__}\0{tool_fingerprint()}\0".encode())
    digest.update(repr(config).encode())
    for rule in sorted(rules, key=lambda rule: rule.id):
        digest.update(f"\0{rule.id}\0".encode())
        try:
            digest.update(rule.source.read_bytes())
        except OSError:
            digest.update(repr(rule).encode())
    for part in parts:
        digest.update(f"\0{part}".encode())
    return digest.hexdigest()


@functools.cache
def tool_fingerprint() -> str:
    """Size and modification time of the tool's own source files.

    A development install changes code without changing the version; this keeps the cache
    from serving results an older build computed. The runtime package plays no part.
    """
    package = Path(migrator.__file__).parent
    runtime = package / "runtime"
    parts = []
    for top, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and Path(top, d) != runtime)
        for name in sorted(files):
            if name.endswith((".py", ".toml")):
                stat = os.stat(os.path.join(top, name))
                parts.append(f"{os.path.relpath(os.path.join(top, name), package)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()
