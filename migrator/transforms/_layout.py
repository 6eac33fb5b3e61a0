"""Layout-preserving list edits shared by parameter and import rewrites."""

from __future__ import annotations

import libcst as cst


def append_item(last, new, opening: cst.BaseParenthesizableWhitespace) -> list:
    """`last` followed by `new` in a comma-separated list, in the list's own layout.

    In a one-per-line list with a trailing comma, the new item goes on its own line, indented
    like the first one (whose indentation follows the opening parenthesis).
    """
    comma = last.comma
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        between = opening if isinstance(opening, cst.ParenthesizedWhitespace) else comma.whitespace_after
        return [last.with_changes(comma=comma.with_changes(whitespace_after=between)), new.with_changes(comma=comma)]
    return [last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), new]
