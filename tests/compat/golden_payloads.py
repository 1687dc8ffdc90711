"""Golden payloads of the vendor adapters: <package>/payloads/<name>.json holds the request as the vendor's
documentation shows it and the exact response expected. Numbers that depend on the database (our customer number is
the primary key, compat/ids.py) are compared as the placeholders the test names, e.g. "<customer>".

Run with UPDATE_GOLDEN=1 to rewrite the response part after a deliberate contract change, then review the diff.
"""

import json
import os
from pathlib import Path
from typing import Any


def load(directory: Path, name: str) -> dict[str, Any]:
    return json.loads((directory / f"{name}.json").read_text())


def numbers_named(body: Any, names: dict[tuple[str, int], str]) -> Any:
    """`body` with each value of key K equal to N replaced by names[(K, N)]: {("id", 17): "<customer>"}."""
    if isinstance(body, dict):
        return {
            key: names.get((key, value), value)
            if isinstance(value, int) and not isinstance(value, bool)
            else numbers_named(value, names)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [numbers_named(item, names) for item in body]
    return body


def assert_matches_golden(directory: Path, name: str, status: int, body: Any) -> None:
    golden = load(directory, name)
    if os.environ.get("UPDATE_GOLDEN"):
        golden["status"] = status
        golden["response"] = body
        (directory / f"{name}.json").write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n")
    assert status == golden["status"]
    assert body == golden["response"]
