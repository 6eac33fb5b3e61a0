"""Every byte a fix does not touch stays: line endings, form feeds, tabs, the last line, BOM, cookie."""

from __future__ import annotations

import codecs

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.results import Status
from migrator.sourcefile import SourceText
from migrator.transforms._kept_lines import keep_source_lines, split_lines
from tests.helpers import run_text

FACTORY = "netra_backend.app.agents.supervisor.agent_instance_factory"
OLD = "get_agent_instance_factory"
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
INDENTS = st.sampled_from(["    ", "  ", "\t", "\t    "])

# Top-level statements without the deprecated use: (first line, lines of the body, if any).
PLAIN_BLOCKS = [
    ["x = 1"],
    ["# a comment with é"],
    [""],
    ["\f"],
    ["\f# after a page break"],
    ["value = (1,", "         2)  # continued"],
    ["text = '''first", "second\t with a tab '''"],
    ["def helper(a):", "@return a"],
    ["class Kind:", "@label = 'é'", "", "@def method(self):", "@@return self.label"],
    ["if True:", "@pass", "else:", "@x = 2"],
    ["label = 'é'  \t"],
]
# Lines of the function that holds the deprecated call, besides the call itself.
BODY_LINES = ["a = 1", "# note", "", "b = (a,", "if a:"]


@st.composite
def lines_of_block(draw, block: list[str], indent: str) -> list[str]:
    """A block's lines with `@` marks turned into the block's indentation; a statement may start after a form feed."""
    lines = [line.replace("@", indent) for line in block]
    if draw(st.booleans()) and lines[0] and not lines[0].startswith(("\f", "#")):
        lines[0] = "\f" + lines[0]
    return lines


@st.composite
def deprecated_function(draw, indent: str) -> list[str]:
    before = draw(st.lists(st.sampled_from(BODY_LINES), max_size=4))
    after = draw(st.lists(st.sampled_from(BODY_LINES), max_size=3))
    body = [*before, f"return {OLD}()", *after]
    # An `if` needs a body line of its own, and a line of a parenthesised value its closing line.
    fixed: list[str] = []
    for line in body:
        fixed.append(line)
        if line == "if a:":
            fixed.append("@a = 2")
        if line == "b = (a,":
            fixed.append("     a)")
    formfeed = draw(st.sampled_from(["", "\f"]))
    return ["def build(user_context):", *(formfeed + indent + line.replace("@", indent) if line else "" for line in fixed)]


@st.composite
def source_files(draw, with_fix: bool = True) -> bytes:
    """A module around a deprecated use, with random line endings and the other odd shapes."""
    header = draw(st.sampled_from(["", "bom", "latin-1", "utf-8-cookie"]))
    indent = draw(INDENTS)
    blocks = [draw(lines_of_block(block, indent)) for block in draw(st.lists(st.sampled_from(PLAIN_BLOCKS), max_size=8))]
    if with_fix:
        at = draw(st.integers(0, len(blocks)))
        blocks.insert(at, draw(deprecated_function(indent)))
        first = [f"from {FACTORY} import {OLD}"]
    else:
        first = [f"# {OLD} is named here but never used"]
    lines = [*first, *(line for block in blocks for line in block)]
    if header in ("latin-1", "utf-8-cookie"):
        lines.insert(0, f"# -*- coding: {header.replace('-cookie', '')} -*-")
    endings = draw(st.lists(ENDINGS, min_size=len(lines), max_size=len(lines)))
    last = draw(st.sampled_from(["\n", "\r\n", "\r", ""]))
    endings[-1] = last
    text = "".join(line + ending for line, ending in zip(lines, endings))
    if header == "latin-1":
        return text.encode("latin-1")
    data = text.encode("utf-8")
    return codecs.BOM_UTF8 + data if header == "bom" else data


def _lines(data: bytes) -> list[bytes]:
    return [line.encode("latin-1") for line in split_lines(data.decode("latin-1"))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source_files())
def test_lines_the_fix_does_not_touch_keep_their_bytes(raw):
    result = run_text(raw)
    assert result.status is Status.CHANGED, result.message
    before, after = _lines(raw), _lines(result.rewritten)
    assert len(before) == len(after)
    for old, new in zip(before, after):
        if OLD.encode() in old:
            assert new != old
            # A changed line keeps its own ending, or lack of one.
            assert new.endswith(b"\r\n") == old.endswith(b"\r\n")
            assert new.endswith(b"\r") == old.endswith(b"\r")
            assert new.endswith(b"\n") == old.endswith(b"\n")
        else:
            assert new == old
    assert result.rewritten.startswith(codecs.BOM_UTF8) == raw.startswith(codecs.BOM_UTF8)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source_files(with_fix=False))
def test_a_file_with_nothing_to_fix_is_left_whole(raw):
    result = run_text(raw)
    assert result.status is Status.UNCHANGED, result.message
    assert result.rewritten is None


def test_keeps_form_feeds_before_a_rewritten_statement_and_its_block():
    source = f"from {FACTORY} import {OLD}\n\n\fdef build(user_context):\n\f    a = 1\n\f    return {OLD}()\n\f\n"
    result = run_text(source)
    expected = source.replace(f"{OLD}()", "create_agent_instance_factory(user_context)").replace(
        OLD, "create_agent_instance_factory"
    )
    assert result.rewritten == expected.encode()


def test_refuses_a_block_whose_lines_differ_in_form_feeds_and_changes_nothing():
    # LibCST takes the first line's form feed for the whole block's indentation, so the
    # columns of the other lines no longer match: the fix is refused, not guessed.
    source = f"from {FACTORY} import {OLD}\n\ndef build(user_context):\n\f    a = 1\n    return {OLD}()\n"
    result = run_text(source)
    assert result.status is Status.FAILED
    assert "left unchanged" in result.message
    assert result.rewritten is None


def test_keeps_a_lone_carriage_return_at_the_end():
    source = f"from {FACTORY} import {OLD}\r\rdef build(user_context):\r    return {OLD}()\ry = 2\r"
    result = run_text(source)
    assert result.rewritten is not None
    assert result.rewritten.endswith(b"\ry = 2\r")


def test_keep_source_lines_takes_untouched_lines_from_the_source():
    source = "a = 1\r\n\fb = 2\nc = 3\r"
    codegen = "a = 1\r\nb = 2\nc = 3"
    rewritten = "a = 1\r\nb = 20\nc = 3"
    assert keep_source_lines(source, codegen, rewritten) == "a = 1\r\n\fb = 20\nc = 3\r"


def test_keep_source_lines_puts_back_a_dropped_blank_line():
    assert keep_source_lines("a\n\n\f\n", "a\n\f\n", "x\n\f\n") == "x\n\n\f\n"


def test_keep_source_lines_gives_up_when_lines_do_not_pair():
    assert keep_source_lines("a\n", "a\nb\n", "x\nb\n") == "x\nb\n"


def test_finds_the_encoding_cookie_on_a_line_ended_by_a_lone_carriage_return():
    raw = b"# -*- coding: latin-1 -*-\rlabel = '\xe9'\r"
    decoded = SourceText.decode(raw)
    assert decoded.text == "# -*- coding: latin-1 -*-\rlabel = '\u00e9'\r"
    assert decoded.encode(decoded.text) == raw
