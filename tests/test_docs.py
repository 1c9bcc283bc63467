"""Every Python example in the docs and the README runs, and the docs build cleanly.

Each page's fenced ``python`` blocks run in order in one shared namespace, in a
temporary working directory holding a copy of ``examples/`` (so a page can open
``examples/ukraine_russia_2025/talks.jsonl`` as a reader at the repository root
would).  Blocks that must not run use another language tag (``text``, ``console``).
A failure names the page, the block's number and line, and the error.

A block tagged ``text output`` right after a ``python`` block shows what that block
prints, and must match it (trailing spaces aside).

Blocks tagged ``console`` are not run, but every ``$ negstate ...`` command in them
must be accepted by the command line's argument parser, so that a renamed command
or flag cannot go unnoticed.  Code that must not run but should be highlighted as
Python (it needs pandas, say) goes in a ``{code-block} python`` directive.

The strict Sphinx build runs only where the ``docs`` extra is installed.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import traceback
import types
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

_OPENING = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\n]*)$")


class Block(NamedTuple):
    """A fenced code block: its number on the page, fence line, info string, code."""

    number: int
    line: int
    info: str
    code: str

    @property
    def language(self) -> str:
        """The info string's first word (``python``, ``text``, ``{eval-rst}``)."""
        words = self.info.split()
        return words[0] if words else ""

    @property
    def is_output(self) -> bool:
        """True for a ``text output`` block: what the block before it prints."""
        return self.info.split() == ["text", "output"]


def fenced_blocks(text: str) -> list[Block]:
    """Every fenced code block of a Markdown text, in order (CommonMark fences).

    A fence opens with three or more backticks or tildes and closes with at least as
    many of the same character; the info string's first word is the language.  A
    block inside a longer fence (an example of Markdown) is part of that block.
    """
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _OPENING.match(lines[index])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        closing = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        start = index + 1
        index += 1
        while index < len(lines) and not closing.match(lines[index]):
            line = lines[index]
            strip = min(indent, len(line) - len(line.lstrip(" ")))
            body.append(line[strip:])
            index += 1
        index += 1  # the closing fence (or the end of the text)
        blocks.append(
            Block(
                number=len(blocks) + 1,
                line=start,
                info=opening["info"].strip(),
                code="\n".join(body) + "\n",
            )
        )
    return blocks


class Example(NamedTuple):
    """A ``python`` block and, if one follows it, the output it must print."""

    block: Block
    output: Block | None


def examples(page: Path) -> list[Example]:
    """The page's ``python`` blocks, numbered among all its blocks, with outputs."""
    blocks = fenced_blocks(page.read_text(encoding="utf-8"))
    found: list[Example] = []
    for index, block in enumerate(blocks):
        if block.language != "python":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        output = following if following is not None and following.is_output else None
        found.append(Example(block, output))
    return found


def pages() -> list[Path]:
    """The docs' Markdown pages (not the build output) and the README."""
    found = sorted(
        path
        for path in DOCS.rglob("*.md")
        if "_build" not in path.relative_to(DOCS).parts
    )
    return [*found, README]


def name_of(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


PAGES_WITH_CODE = [page for page in pages() if examples(page)]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a fresh copy of ``examples/``.

    Temporary folders the pages make (``tempfile.mkdtemp``) go under it too, so a
    page that fails half-way leaves nothing behind.
    """
    shutil.copytree(
        ROOT / "examples",
        tmp_path / "examples",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=name_of)
def test_page_examples_run(page: Path, workdir: Path) -> None:
    """Run the page's Python blocks in order in one namespace; check shown output."""
    assert workdir == Path.cwd()
    # A real module, so that attrs classes defined on the page resolve their
    # annotations (cattrs asks typing.get_type_hints, which looks the module up).
    module_name = "negstate_docs_" + re.sub(r"\W", "_", name_of(page))
    module = types.ModuleType(module_name)
    module.__file__ = str(page)
    sys.modules[module_name] = module
    try:
        for block, output in examples(page):
            where = f"{name_of(page)}, block {block.number} (line {block.line})"
            printed = io.StringIO()
            try:
                # Padding makes a traceback's line numbers those of the page.
                padded = "\n" * block.line + block.code
                code = compile(padded, name_of(page), "exec")
                with contextlib.redirect_stdout(printed):
                    exec(code, module.__dict__)  # noqa: S102 - the docs' own examples
            except Exception as error:  # noqa: BLE001 - report any failure with its place
                details = "".join(traceback.format_exception(error)[-6:])
                pytest.fail(
                    f"{where}: {type(error).__name__}: {error}\n{details}",
                    pytrace=False,
                )
            if output is not None and _lines(printed.getvalue()) != _lines(output.code):
                pytest.fail(
                    f"{where} printed something else than the output block at line "
                    f"{output.line} shows:\n{printed.getvalue()}",
                    pytrace=False,
                )
    finally:
        del sys.modules[module_name]


def shell_commands(block: Block) -> list[tuple[int, list[str]]]:
    """The ``$ negstate ...`` commands of a console block, with their page lines.

    A command continues on the next line after a trailing backslash.
    """
    found: list[tuple[int, list[str]]] = []
    lines = block.code.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        start = block.line + 1 + index
        index += 1
        if not line.startswith("$ "):
            continue
        command = line[2:]
        while command.endswith("\\") and index < len(lines):
            command = command[:-1] + " " + lines[index].strip()
            index += 1
        words = shlex.split(command)
        if words and words[0] == "negstate":
            found.append((start, words[1:]))
    return found


def console_commands() -> list[tuple[str, list[str]]]:
    """Every ``negstate`` command shown in the docs and the README, with its place."""
    return [
        (f"{name_of(page)}:{line}", argv)
        for page in pages()
        for block in fenced_blocks(page.read_text(encoding="utf-8"))
        if block.language == "console"
        for line, argv in shell_commands(block)
    ]


@pytest.mark.parametrize(
    ("where", "argv"), console_commands(), ids=[w for w, _ in console_commands()]
)
def test_shown_commands_parse(where: str, argv: list[str]) -> None:
    """The command line accepts every ``negstate`` command the docs show."""
    cli = pytest.importorskip("negstate.cli")
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(said):
            cli.build_parser().parse_args(argv)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            pytest.fail(f"{where}: negstate {shlex.join(argv)}\n{said.getvalue()}")


def test_docs_have_executed_examples() -> None:
    """The tutorial and the how-to guides carry code that this file runs."""
    names = {name_of(page) for page in PAGES_WITH_CODE}
    assert "docs/tutorial.md" in names
    assert any(name.startswith("docs/howto/") for name in names)


class TestFencedBlocks:
    """The block finder reads fences the way Markdown does."""

    def test_languages_numbers_and_lines(self) -> None:
        text = "# Title\n\n```python\nx = 1\n```\n\ntext\n\n~~~text\nnot run\n~~~\n"
        assert fenced_blocks(text) == [
            Block(1, 3, "python", "x = 1\n"),
            Block(2, 9, "text", "not run\n"),
        ]
        assert [b.language for b in fenced_blocks(text)] == ["python", "text"]

    def test_a_longer_fence_holds_a_shorter_one(self) -> None:
        text = "````markdown\n```python\nraise SystemExit\n```\n````\n"
        (block,) = fenced_blocks(text)
        assert block.language == "markdown"
        assert "raise SystemExit" in block.code

    def test_indented_fence_in_a_list_is_dedented(self) -> None:
        text = "1. Step\n\n   ```python\n   y = 2\n   ```\n"
        assert fenced_blocks(text) == [Block(1, 3, "python", "y = 2\n")]

    def test_directives_and_info_strings(self) -> None:
        text = "```{eval-rst}\n.. autofunction:: x\n```\n```python title\nz = 3\n```\n"
        assert [b.language for b in fenced_blocks(text)] == ["{eval-rst}", "python"]

    def test_output_block_pairs_with_the_python_block_before_it(
        self, tmp_path: Path
    ) -> None:
        page = tmp_path / "page.md"
        page.write_text(
            "```python\nprint(1)\n```\n\n```text output\n1\n```\n\n"
            "```python\nx = 2\n```\n\n```text\nnot an output\n```\n"
        )
        (first, first_output), (second, second_output) = examples(page)
        assert (first.number, first_output) == (1, fenced_blocks(page.read_text())[1])
        assert (second.number, second_output) == (3, None)

    def test_shell_commands_join_continued_lines(self) -> None:
        text = (
            "```console\n$ negstate state log.jsonl \\\n    --at 2025-06-27\n"
            "output line\n$ ls\n$ negstate verify 'my log.jsonl'\n```\n"
        )
        (block,) = fenced_blocks(text)
        assert shell_commands(block) == [
            (2, ["state", "log.jsonl", "--at", "2025-06-27"]),
            (6, ["verify", "my log.jsonl"]),
        ]

    def test_unclosed_fence_runs_to_the_end(self) -> None:
        assert fenced_blocks("```python\na = 1\n") == [Block(1, 1, "python", "a = 1\n")]


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    """``sphinx-build -W --keep-going`` passes (needs the ``docs`` extra)."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("furo")
    pytest.importorskip("sphinxarg")
    pytest.importorskip("sphinx_copybutton")
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-5000:]
