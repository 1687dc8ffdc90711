"""Golden payloads of the Antavo adapter: payloads/<name>.json holds the request as Antavo's documentation shows it
(shared/seeds/003_*, the in-store retail integration guide: verbatim where it is valid JSON; the opt_in example's
trailing comma and its e-mail address, mangled by the page's e-mail protection, are the only changes) and the exact
status and response expected. UPDATE_GOLDEN=1 rewrites the expected part after a deliberate contract change."""

import json
import os
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads"


def request_of(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())["request"]


def ledger_ids_named(body: Any) -> Any:
    """`body` with each event's ledger entry id (a database sequence: it differs between runs on PostgreSQL) as
    "<entry>", after checking it is one."""
    if not isinstance(body, dict) or "events" not in body:
        return body
    assert all(event["id"].isdigit() for event in body["events"])
    return {**body, "events": [{**event, "id": "<entry>"} for event in body["events"]]}


def assert_matches_golden(name: str, status: int, body: Any) -> None:
    body = ledger_ids_named(body)
    path = PAYLOADS / f"{name}.json"
    golden = json.loads(path.read_text())
    if os.environ.get("UPDATE_GOLDEN"):
        golden["status"] = status
        golden["response"] = body
        path.write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n")
    assert (status, body) == (golden["status"], golden["response"])
