"""The client is a package of its own: it reaches the exchange over HTTP, never through app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jtai_client


def test_the_client_imports_nothing_of_the_server() -> None:
    # A fresh interpreter: in this one the tests have long since imported app.
    package = Path(jtai_client.__file__).parent
    modules = sorted(
        "jtai_client." + ".".join(path.relative_to(package).with_suffix("").parts)
        for path in package.rglob("*.py")
        if path.name != "__init__.py"
    )
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'app' or m.startswith('app.')))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert ran.stdout.strip() == "[]", ran.stdout
