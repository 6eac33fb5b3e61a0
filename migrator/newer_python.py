"""Which newer Python a file is written for, when the running interpreter cannot parse it.

CPython's parser knows only its own version's grammar. LibCST's parser knows every grammar
up to the newest it supports, so a file it parses that CPython does not is newer syntax,
and its nodes say which version introduced it. Only a file that already failed to parse
pays for this second parse.
"""

from __future__ import annotations

import sys

import libcst as cst

_RUNNING = sys.version_info[:2]


def newer_python_hint(text: str, error: SyntaxError, running: tuple[int, int] = _RUNNING) -> str:
    """A sentence naming the Python that parses `text`, which the running one could not (`error`); empty if none does."""
    needed = newer_python_for(text, error, running)
    if needed is None:
        return ""
    version, feature = needed
    here = f"{running[0]}.{running[1]}"
    return (
        f"; this is Python {version} syntax ({feature}) and migrator runs on Python {here}: "
        f"run migrator with Python {version} or newer"
    )


def newer_python_for(text: str, error: SyntaxError, running: tuple[int, int] = _RUNNING) -> tuple[str, str] | None:
    """The oldest Python newer than `running` whose grammar accepts `text`, and the feature that needs it."""
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None
    finder = _NewSyntax()
    module.visit(finder)
    if running < (3, 12) and (error.msg or "").startswith("f-string"):
        # PEP 701: quotes, backslashes and comments inside f-string replacement fields.
        finder.need((3, 12), "f-string with quotes, backslashes or comments inside its braces")
    if finder.version is None or finder.version <= running:
        return None
    return f"{finder.version[0]}.{finder.version[1]}", finder.feature


class _NewSyntax(cst.CSTVisitor):
    """The newest syntax a module uses, among what versions after 3.11 added."""

    def __init__(self) -> None:
        super().__init__()
        self.version: tuple[int, int] | None = None
        self.feature = ""

    def need(self, version: tuple[int, int], feature: str) -> None:
        if self.version is None or version > self.version:
            self.version, self.feature = version, feature

    def visit_TypeAlias(self, node: cst.TypeAlias) -> None:
        self.need((3, 12), "a `type` statement")

    def visit_TypeParameters(self, node: cst.TypeParameters) -> None:
        self.need((3, 12), "type parameters")

    def visit_TypeParam(self, node: cst.TypeParam) -> None:
        if node.default is not None:
            self.need((3, 13), "a type parameter default")

    def visit_TemplatedString(self, node: cst.TemplatedString) -> None:
        self.need((3, 14), "a template string")

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if isinstance(node.type, cst.Tuple) and not node.type.lpar:
            self.need((3, 14), "several exception types without parentheses")

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        if isinstance(node.type, cst.Tuple) and not node.type.lpar:
            self.need((3, 14), "several exception types without parentheses")
