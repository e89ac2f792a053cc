"""Write the API's OpenAPI schema: `python -m hnce_cli.server.openapi docs/openapi.json`.

The checked-in copy is the API's contract; a test fails when it drifts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def schema() -> dict[str, Any]:
    from hnce_cli.server.app import create_app

    return create_app().openapi()


def render() -> str:
    return json.dumps(schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/openapi.json")
    target.write_text(render(), encoding="utf-8")
