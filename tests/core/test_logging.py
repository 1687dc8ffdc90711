"""Request ids (X-Request-ID accepted when sane, else generated, echoed back) and Celery task ids on log records;
JSON lines for production."""

import json
import logging
import re
import shlex

import pytest
from celery import shared_task
from django.conf import settings

from core.logging import LogContextFilter, ProductionJsonFormatter, request_id_var

pytestmark = pytest.mark.django_db

logger = logging.getLogger(__name__)


class RecordsHandler(logging.Handler):
    """What the console handler sees: records after LogContextFilter."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(LogContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records():
    handler = RecordsHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler.records
    root.removeHandler(handler)


@shared_task(name="tests.core.test_logging.log_something_task")
def log_something_task() -> None:
    logger.info("inside a task")


def test_a_sane_request_id_is_echoed_back(client):
    # when
    response = client.get("/nowhere", HTTP_X_REQUEST_ID="lb-7f3a9c2e-1")

    # then
    assert response["X-Request-ID"] == "lb-7f3a9c2e-1"


@pytest.mark.parametrize("sent", [None, "", "two words", "line\nbreak", "x" * 129, '"quoted"', "-leading-dash"])
def test_a_missing_or_insane_request_id_is_replaced_by_a_new_one(client, sent):
    # given
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}

    # when
    first = client.get("/nowhere", **headers)
    second = client.get("/nowhere", **headers)

    # then
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_api_responses_carry_the_request_id_too(make_api_client):
    # given
    http, _key = make_api_client("loyalty:read")

    # when
    response = http.get("/api/v1/configuration", HTTP_X_REQUEST_ID="req-42")

    # then
    assert (response.status_code, response["X-Request-ID"]) == (200, "req-42")


def test_log_records_of_a_request_carry_its_id(client, records):
    # when: Django logs the 404 after the middleware has returned
    client.get("/nowhere", HTTP_X_REQUEST_ID="req-404")

    # then
    not_found = [record for record in records if record.name == "django.request"]
    assert [(record.getMessage(), record.request_id, record.log_context) for record in not_found] == [
        ("Not Found: /nowhere", "req-404", "request_id=req-404")
    ]


def test_the_request_id_is_forgotten_once_the_response_is_closed(client, records):
    # given
    client.get("/nowhere", HTTP_X_REQUEST_ID="req-done")

    # when
    logger.info("after the request")

    # then
    after = records[-1]
    assert (after.getMessage(), hasattr(after, "request_id"), after.log_context) == ("after the request", False, "-")
    assert request_id_var.get() is None


def test_log_records_of_a_task_carry_its_id_and_name(records):
    # when
    result = log_something_task.apply()

    # then
    inside = [record for record in records if record.getMessage() == "inside a task"]
    assert [(record.task_id, record.task_name, record.log_context) for record in inside] == [
        (
            result.id,
            "tests.core.test_logging.log_something_task",
            f"task=tests.core.test_logging.log_something_task[{result.id}]",
        )
    ]


def test_production_log_lines_are_json_with_the_request_id():
    # given
    record = logging.LogRecord("crm.services", logging.WARNING, __file__, 1, "Customer %s merged", ("C1",), None)
    token = request_id_var.set("req-json")
    try:
        LogContextFilter().filter(record)
    finally:
        request_id_var.reset(token)

    # when
    line = json.loads(ProductionJsonFormatter().format(record))

    # then
    assert set(line) == {"level", "logger", "message", "request_id", "time"}
    assert (line["level"], line["logger"], line["message"], line["request_id"]) == (
        "WARNING",
        "crm.services",
        "Customer C1 merged",
        "req-json",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", line["time"])


def test_the_plain_format_of_local_logs_shows_the_context():
    # given
    record = logging.LogRecord("crm", logging.INFO, __file__, 1, "hello", (), None)
    LogContextFilter().filter(record)
    formatter = logging.Formatter("%(levelname)s %(name)s [%(log_context)s] %(message)s")

    # when
    line = formatter.format(record)

    # then
    assert line == "INFO crm [-] hello"


def test_a_health_probe_gets_no_request_id(client):
    # when
    response = client.get("/healthz", HTTP_X_REQUEST_ID="probe-1")

    # then
    assert "X-Request-ID" not in response


def test_the_access_log_leaves_query_strings_out_and_names_the_request_id():
    # given: SPI searches send e-mail addresses and phone numbers, and some POS connectors the key, as ?query
    web = next(line for line in (settings.BASE_DIR / "Procfile").read_text().splitlines() if line.startswith("web:"))

    # when
    access_log_format = shlex.split(web)[shlex.split(web).index("--access-logformat") + 1]

    # then
    assert access_log_format == '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'


def test_json_lines_of_a_failed_request_name_its_path_but_never_its_query_string(client, records):
    # given
    client.get("/nowhere", {"email": "sally@example.com", "api_key": "secret-key"}, HTTP_X_REQUEST_ID="req-q")
    not_found = next(record for record in records if record.name == "django.request")

    # when
    line = json.loads(ProductionJsonFormatter().format(not_found))

    # then
    assert {key: line[key] for key in ("message", "method", "path", "status_code", "request_id")} == {
        "message": "Not Found: /nowhere",
        "method": "GET",
        "path": "/nowhere",
        "status_code": 404,
        "request_id": "req-q",
    }
    assert "sally@example.com" not in json.dumps(line)
    assert "secret-key" not in json.dumps(line)
