"""The architecture's rules, checked on the source: core stays pure, nothing unsafe is used."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_FILES = sorted((ROOT / "core").rglob("*.py"))
PROJECT_FILES = sorted(p for d in ("core", "ui", "pages", "benchmarks") for p in (ROOT / d).rglob("*.py")) + [
    ROOT / "app.py"
]
FORBIDDEN_IN_CORE = {"streamlit", "plotly", "pandas", "matplotlib"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_no_ui_library(path):
    assert not imported_modules(path) & FORBIDDEN_IN_CORE


def test_the_boundary_check_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nfrom streamlit import session_state\nimport plotly.graph_objects as go\n")
    assert imported_modules(bad) & FORBIDDEN_IN_CORE == {"streamlit", "plotly"}


@pytest.mark.parametrize("path", PROJECT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_pickle_or_eval(path):
    source = path.read_text()
    assert "allow_pickle=True" not in source
    assert "pickle" not in imported_modules(path)
    calls = {
        node.func.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not calls & {"eval", "exec"}
