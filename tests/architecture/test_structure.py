"""The shape the code keeps: use cases in services, small modules and functions, layers.

The layers themselves are checked by import-linter (`.importlinter`, run by scripts/test.sh);
these are the rules it cannot express.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / "app", ROOT / "jtai_client"]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(
        path for package in PACKAGES if package.exists() for path in package.rglob("*.py")
    )


def _routers() -> list[Path]:
    return sorted((ROOT / "app").glob("*/router.py"))


@pytest.mark.parametrize("router", _routers(), ids=lambda path: path.parent.name)
def test_routers_leave_the_use_case_to_the_service(router: Path) -> None:
    # A router that audits or re-derives is assembling a use case that the CLI, the demo and
    # the factories would then skip.
    tree = ast.parse(router.read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "app.audit.chain" not in imported, "audit in the service function, not the router"
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not calls & {"record", "rederive_requests", "refresh_requests"}


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_the_limit() -> None:
    long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert long == {}
