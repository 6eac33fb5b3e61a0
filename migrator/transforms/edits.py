"""Edits as data: what a transform asks the rewriter to do, located by source positions.

Transforms decide on the cheap `ast` model; one LibCST pass per file then carries out the
edits of every rule together, so imports are merged once and conflicting edits are caught.
"""

from __future__ import annotations

import msgspec

from migrator.analysis.model import Pos


class ReplaceCall(msgspec.Struct, frozen=True):
    """Replace the callee and arguments of the call whose name token is at `anchor`.

    With `attribute_only`, only the final attribute name is replaced (`m.old()` -> `m.new(...)`).
    """

    anchor: Pos
    callee: str
    args: str
    attribute_only: bool = False


class ReplaceExpression(msgspec.Struct, frozen=True):
    """Replace the expression whose name token is at `anchor` by `code`: the whole call when
    `call` (the token is its callee's name), else the name or attribute itself."""

    anchor: Pos
    code: str
    call: bool = True


class InsertStatement(msgspec.Struct, frozen=True):
    """Insert `code` before the statement that holds `anchor`, in its innermost block."""

    anchor: Pos
    code: str


class ReplaceStatement(msgspec.Struct, frozen=True):
    """Replace the statement that holds `anchor` (innermost block) by `code`; empty code deletes it.

    `code` holds whole statements at indentation zero; the rewriter indents them.
    """

    anchor: Pos
    code: str


class AddParameter(msgspec.Struct, frozen=True):
    """Append a parameter to the function whose name token is at `function`."""

    function: Pos
    name: str


class AddModuleCode(msgspec.Struct, frozen=True):
    """Add top-level code after the module's imports (a fixture definition, for example)."""

    code: str


class AddImport(msgspec.Struct, frozen=True):
    """Import `name` from `module` (or `import module` when name is None), once."""

    module: str
    name: str | None = None


class RemoveImport(msgspec.Struct, frozen=True):
    """Remove `name` from the import statement that starts at `statement`.

    `name` is the imported name as written (`b` of `from a import b as c`, `a.b` of `import a.b`).

    With a `replacement`, the name is renamed in place instead, so the import keeps its place
    and its style (relative or absolute).
    """

    statement: Pos
    name: str
    replacement: str | None = None


FIX_SAFETIES = ("safe", "unsafe")

Edit = ReplaceCall | ReplaceExpression | InsertStatement | ReplaceStatement | AddParameter | AddModuleCode | AddImport | RemoveImport


class Fix(msgspec.Struct, frozen=True):
    """A finding's automatic fix: the edits that carry it out.

    `safety` is "safe" when the fix keeps behaviour given what the analysis knows, "unsafe"
    when a person should look at it; `apply` writes unsafe fixes only with `--unsafe-fixes`.
    """

    edits: tuple[Edit, ...]
    safety: str = "safe"

    def __post_init__(self) -> None:
        if self.safety not in FIX_SAFETIES:
            raise ValueError(f"fix safety must be one of {', '.join(FIX_SAFETIES)}, not {self.safety!r}")


class Manual(msgspec.Struct, frozen=True):
    """A finding that needs a person, and why."""

    reason: str


Plan = Fix | Manual


# What a transform's plan of None is recorded as: the use is no finding (its name is not
# deprecated there). A use with no plan at all is one whose rule did not run (not selected).
NOT_A_FINDING = Manual("not a finding")
