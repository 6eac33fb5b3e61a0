"""Inline suppressions: `# migrator: ignore[MIG001,MIG005] why the finding stays`.

A suppression covers the findings of the rules it names on its own line, or on any line of
the statement whose first line it is on. The comments that need attention are findings of
MIG000 themselves: one without a reason, one that names no rule or an unknown one, and one
that suppresses nothing a rule running on the file reports.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Collection, Iterator, Mapping

import msgspec

SUPPRESSION_RULE = "MIG000"
# Texts without it hold no suppression and are not tokenized.
MARKER = "migrator:"
_DIRECTIVE = re.compile(r"#\s*migrator:\s*ignore(?![\w-])(?:\[(?P<codes>[^\]]*)\])?(?P<rest>.*)$", re.DOTALL)
# Another tool's directive after the reason ends it: `... why  # noqa: E501`.
_OTHER_DIRECTIVE = re.compile(r"\s#\s*(?:noqa|type:|pragma|pylint:|fmt:|nosec|ruff:|mypy:)", re.IGNORECASE)


class Suppression(msgspec.Struct, frozen=True):
    """One suppression comment: where it is (1-based line, 0-based columns), what it names, why."""

    line: int
    column: int
    end_column: int
    codes: tuple[str, ...]
    reason: str


class Problem(msgspec.Struct, frozen=True):
    """A suppression comment that needs attention: a MIG000 finding, in the text's own positions."""

    line: int
    column: int
    end_column: int
    message: str
    reason: str


def find_suppressions(text: str) -> tuple[Suppression, ...]:
    """Every suppression comment in a piece of Python source (strings that look like one are not)."""
    if MARKER not in text:
        return ()
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and MARKER in token.string:
                suppression = parse_comment(token.string, token.start[0], token.start[1])
                if suppression is not None:
                    found.append(suppression)
    except (tokenize.TokenError, SyntaxError):
        # The analysis parsed the text already; a tokenizer that disagrees costs only the comments after it.
        pass
    return tuple(found)


def parse_comment(comment: str, line: int, column: int) -> Suppression | None:
    """The suppression a comment token holds, if any."""
    directive = _DIRECTIVE.search(comment)
    if directive is None:
        return None
    codes_text = directive["codes"]
    codes = tuple(code.strip().upper() for code in (codes_text or "").split(",") if code.strip())
    rest = _OTHER_DIRECTIVE.split(directive["rest"], maxsplit=1)[0]
    reason = rest.strip().lstrip(":-\N{EN DASH}\N{EM DASH}").strip()
    if not any(char.isalnum() for char in reason):
        reason = ""
    return Suppression(line, column, column + len(comment), codes, reason)


class SuppressionIndex(msgspec.Struct, frozen=True):
    """A file's suppressions, found by line."""

    suppressions: tuple[Suppression, ...]

    @classmethod
    def of(cls, text: str) -> SuppressionIndex:
        return cls(find_suppressions(text))

    def __bool__(self) -> bool:
        return bool(self.suppressions)

    def covering(self, rule_id: str, line: int, statement_line: int) -> Iterator[int]:
        """The indexes of the suppressions that cover a finding of `rule_id` at `line` in a statement
        starting at `statement_line`."""
        for position, suppression in enumerate(self.suppressions):
            if suppression.line in (line, statement_line) and rule_id in suppression.codes:
                yield position

    def problems(
        self, used: Mapping[int, Collection[str]], ran: Collection[str], known: Collection[str]
    ) -> list[Problem]:
        """The comments that need attention, given which of their codes suppressed something (`used`),
        which rules ran on this text and which rules exist."""
        found = []
        for position, suppression in enumerate(self.suppressions):
            where = (suppression.line, suppression.column, suppression.end_column)
            found.extend(Problem(*where, message, advice) for message, advice in _problems_of(
                suppression, used.get(position, ()), ran, known
            ))
        return found


def _problems_of(
    suppression: Suppression, used: Collection[str], ran: Collection[str], known: Collection[str]
) -> Iterator[tuple[str, str]]:
    """What is wrong with one suppression, as (message, what to do) pairs."""
    if not suppression.codes:
        yield "suppression names no rule", "name the rules it covers: # migrator: ignore[MIG001] why the finding stays"
        return
    unknown = [code for code in suppression.codes if code != SUPPRESSION_RULE and code not in known]
    if unknown:
        yield f"suppression names unknown rule {', '.join(unknown)}", "`migrator rules` lists the rule IDs; correct or remove it"
    if SUPPRESSION_RULE in suppression.codes:
        yield (
            f"{SUPPRESSION_RULE} cannot be suppressed inline",
            f"leave {SUPPRESSION_RULE} out with ignore or per-file-ignores in the config",
        )
    if not suppression.reason:
        yield (
            "suppression without a reason",
            "say after the brackets why the finding stays, e.g. "
            "# migrator: ignore[MIG001] asserts that the deprecated getter raises",
        )
    unused = [code for code in suppression.codes if code != SUPPRESSION_RULE and code in ran and code not in used]
    if unused:
        yield (
            f"unused suppression: {', '.join(unused)} reports nothing here",
            f"remove {', '.join(unused)} from the comment, or the whole comment if nothing else is left",
        )
