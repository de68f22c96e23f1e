"""Every chapter has one shape: named section functions, a short ``render()`` calling them,
and nothing else at module level but imports, constants and the router's check.

Read from the source (``ast``), as a reviewer reads it: a chapter that puts widgets or
logic back at module level, or grows a ``render()`` that is itself a long script, fails
here with the line to look at.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pages._chapters import CHAPTERS  # noqa: E402

FILES = [file for file, *_ in CHAPTERS if (ROOT / "pages" / file).exists()]
RENDER_MAX_STATEMENTS = 15


def tree(file: str) -> ast.Module:
    return ast.parse((ROOT / "pages" / file).read_text(encoding="utf-8"))


def is_call_of(node: ast.stmt, name: str) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) == name and not node.value.args)


def uses_streamlit(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
               and n.value.id == "st" for n in ast.walk(node))


def test_every_chapter_is_checked() -> None:
    assert len(FILES) == len(CHAPTERS) >= 9, FILES


@pytest.mark.parametrize("file", FILES)
def test_module_level_is_imports_constants_sections_and_one_render(file: str) -> None:
    body = tree(file).body
    assert is_call_of(body[-1], "render"), f"{file}: the last statement is not render()"
    for node in body[:-1]:
        where = f"{file}:{node.lineno}"
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
            continue
        if is_call_of(node, "_ui.through_the_router"):
            continue
        assert isinstance(node, ast.Assign | ast.AnnAssign), (
            f"{where}: {type(node).__name__} at module level; put it in a section function")
        assert node.value is not None and not uses_streamlit(node.value), (
            f"{where}: a module-level constant draws with st")


@pytest.mark.parametrize("file", FILES)
def test_render_is_a_short_list_of_sections(file: str) -> None:
    functions = {n.name: n for n in tree(file).body if isinstance(n, ast.FunctionDef)}
    render = functions.get("render")
    assert render is not None, f"{file} has no render()"
    assert not render.args.args, f"{file}: render() takes no arguments"
    assert len(render.body) <= RENDER_MAX_STATEMENTS, (
        f"{file}: render() has {len(render.body)} statements; split it into sections")
    called = {ast.unparse(n.func) for n in ast.walk(render) if isinstance(n, ast.Call)}
    sections = [name for name in functions if name != "render" and name in called]
    assert len(sections) >= 2, f"{file}: render() calls {sorted(called)}; name its sections"
    for name in sections:
        assert not name.startswith("_"), f"{file}: section {name}() reads as private"
