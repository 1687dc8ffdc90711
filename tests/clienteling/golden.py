"""Golden payloads: tests/clienteling/payloads/<name>.json holds a request and the exact response expected.

Run with UPDATE_GOLDEN=1 to rewrite the response part after a deliberate contract change, then review the diff.
"""

import json
import os
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def assert_matches_golden(name: str, status: int, body: Any) -> None:
    golden = load(name)
    if os.environ.get("UPDATE_GOLDEN"):
        golden["status"] = status
        golden["response"] = body
        (PAYLOADS / f"{name}.json").write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n")
    assert status == golden["status"]
    assert body == golden["response"]
