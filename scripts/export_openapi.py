"""Write openapi/openapi.json from the app, so the committed contract follows the code.

Run: python scripts/export_openapi.py  (a test fails when the committed file is stale)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "openapi" / "openapi.json"


def generate() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from app.auth.keys import generate_private_pem
    from app.core.config import Settings
    from app.main import create_app

    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(
            var_dir=Path(scratch),
            database_url=f"sqlite:///{scratch}/openapi.sqlite3",
            signing_key=generate_private_pem(),  # type: ignore[arg-type]
        )
        application = create_app(settings)
        document = application.openapi()
        application.state.jtai.engine.dispose()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    rendered = render(generate())
    if "--check" in sys.argv[1:]:
        if not TARGET.exists() or TARGET.read_text() != rendered:
            sys.exit("openapi/openapi.json is stale: run python scripts/export_openapi.py")
        return
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(rendered)
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
