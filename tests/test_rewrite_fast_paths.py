"""The rewriter's fast paths give the plain paths' bytes: statement lines read off the text, output spliced from it."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from migrator.sourcefile import SourceText
from migrator.transforms import _rewriter
from migrator.transforms._positions import positions, statement_lines, statement_lines_from_text
from tests import corpus
from tests.helpers import run_text
from tests.test_fixtures import _options

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SAMPLE = FIXTURES / "netra_sample"
SOURCES = sorted((FIXTURES / "rules").glob("*/*.py")) + sorted(SAMPLE.rglob("*.py"))
BEFORE = sorted((FIXTURES / "rules").glob("*/*.before.py"))


def _id(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


@pytest.fixture(scope="module")
def bench_corpus(tmp_path_factory) -> Path:
    """Corpus S of bench/, 300 files, a third of them with fixes to make."""
    root = tmp_path_factory.mktemp("bench") / "S"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_corpus.py"), "--files", "300", "--out", str(root)],
        check=True,
        capture_output=True,
    )
    return root


@pytest.fixture
def rewrites(monkeypatch) -> list[tuple[str, str, str]]:
    """Every rewrite of the test, each done both ways: (source, spliced, plain)."""
    done: list[tuple[str, str, str]] = []
    rewrite = _rewriter.rewrite

    def both_ways(source, edits, **options):
        spliced = rewrite(source, edits, **options)
        plain = rewrite(source, edits, reuse_text=False)
        done.append((source, spliced, plain))
        return spliced

    monkeypatch.setattr(_rewriter, "rewrite", both_ways)
    return done


def assert_same_text(rewrites: list[tuple[str, str, str]]) -> None:
    assert rewrites, "nothing was rewritten, so nothing was compared"
    for source, spliced, plain in rewrites:
        assert spliced == plain, f"the spliced text differs from the module's codegen for:\n{source}"


@pytest.mark.parametrize("path", SOURCES, ids=_id)
def test_statement_lines_from_text_match_codegen_on_fixture(path):
    text = SourceText.decode(path.read_bytes()).text
    module = cst.parse_module(text)
    plain = statement_lines(module)
    from_text = statement_lines_from_text(module, text)
    if not module.body or not module.has_trailing_newline:
        assert from_text is None
        return
    assert from_text == plain
    lines = set(plain[::2])
    assert positions(module, lines, spans=from_text) == positions(module, lines)


@pytest.mark.parametrize(
    "text",
    [
        "@(\nfoo\n)\ndef f(): pass\nx = 1\n",
        "# c\n\n@a\n\n@b\n# x\ndef f():\n    pass\n    # kept\n\n  # odd\n# top\nx = 1\n\n# end\n",
        "x = 1\r\ny = (\r\n2)\r\n\r\n# c\r\nclass A:\r\n  pass\r\n",
        "x = 1\ry = '''a\rb'''\r",
        "a = 1; b = (2,\n3); c = 4\nd = 5\n",
        "\ufeffx = 1\n",
        "x = 1\n\f\ny = 2\n",
        "s = '''\nfoo\n'''\ndef f():\n  return '''\nx\n'''\n",
        "try:\n    pass\nexcept E:\n    pass\n# c\nfinally:\n    pass\n",
        "match x:\n    case 1:\n        pass\n  # c\ny = 1\n",
        "x = 1 \\\n  + 2\nx = 1\n    # indented comment\n",
        "def f():\n    return 1",
        "",
        "# only a comment\n",
        "\\\nx = 1\n",
    ],
)
def test_statement_lines_from_text_match_codegen_on_odd_layouts(text):
    module = cst.parse_module(text)
    assert statement_lines_from_text(module, text) in (statement_lines(module), None)


def test_statement_lines_from_text_match_codegen_on_bench_corpus(bench_corpus):
    paths = sorted(bench_corpus.rglob("*.py"))
    assert len(paths) >= 300
    for path in paths:
        text = path.read_text(encoding="utf-8")
        module = cst.parse_module(text)
        assert statement_lines_from_text(module, text) == statement_lines(module), path


@pytest.mark.parametrize("path", BEFORE, ids=_id)
def test_spliced_text_matches_codegen_on_rule_fixture(path, rewrites):
    before = path.read_bytes()
    result = run_text(before, **_options(before.decode("utf-8", "replace")))
    assert result.message is None, result.message
    assert_same_text(rewrites)


HANDLER = f"""from {corpus.FACTORY} import get_agent_instance_factory


@decorated
def other():
    pass


async def handle(user_id, thread_id, run_id):
    factory = get_agent_instance_factory()
    return factory
"""


@pytest.mark.parametrize(
    "text",
    [
        HANDLER,
        HANDLER.replace("\n", "\r\n"),
        HANDLER.replace("\n", "\r"),
        HANDLER.rstrip("\n"),
        HANDLER.replace("    ", "\t"),
        HANDLER.replace("@decorated", "@(\ndecorated\n)"),
        "# header\n\n" + HANDLER + "\n# footer\n    # indented\n",
        HANDLER + "    # kept in the block\n\n\n# footer",
    ],
    ids=["lf", "crlf", "cr", "no-final-newline", "tabs", "decorator-lines", "header-footer", "footer-no-newline"],
)
def test_spliced_text_matches_codegen_on_odd_layouts(text, rewrites):
    run_text(text)
    assert_same_text(rewrites)


def test_spliced_text_matches_codegen_on_generated_modules(rewrites):
    rng = random.Random(11)
    for number in range(120):
        run_text(corpus.module_text(rng, number), relpath=f"{rng.choice(corpus.FOLDERS)}/mod_{number}.py")
    assert_same_text(rewrites)


def test_spliced_text_matches_codegen_on_sample(cli, rewrites, tmp_path):
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root)
    cli("apply", "--phase", "all", "--dry-run", "--jobs", "1", cwd=root)
    assert_same_text(rewrites)


def test_spliced_text_matches_codegen_on_bench_corpus(cli, rewrites, bench_corpus):
    cli("apply", "--phase", "all", "--dry-run", "--jobs", "1", cwd=bench_corpus)
    assert len(rewrites) >= 60
    assert_same_text(rewrites)
