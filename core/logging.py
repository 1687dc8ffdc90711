"""What every log line says about where it came from: the HTTP request (its X-Request-ID) or the Celery task.

`LogContextFilter` sits on the console handler and adds `request_id`, `task_id` and `task_name` to each record
that has them (JSON logs carry them as fields) and `log_context`, a short form for the plain format of local and
test logs. `core.middleware.RequestIdMiddleware` sets the request id; Celery knows the task it is running.
"""

import logging
from contextvars import ContextVar
from typing import Any

from celery import current_task
from django.http import HttpRequest
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class LogContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = []
        request_id = request_id_var.get()
        if request_id:
            record.request_id = request_id
            context.append(f"request_id={request_id}")
        task = current_task
        # current_task is a proxy: falsy outside a task. Eager tasks (tests) run inside the request.
        if task and task.request.id:
            record.task_id = task.request.id
            record.task_name = task.name
            context.append(f"task={task.name}[{task.request.id}]")
        record.log_context = " ".join(context) or "-"
        return True


class ProductionJsonFormatter(JsonFormatter):
    """One JSON object per line for the log shipper, with an ISO 8601 UTC `time`. `log_context` is the plain
    format's and is left out. Django hands its request to `django.request` records; its repr has the query string
    (SPI searches carry e-mail addresses and phone numbers there, some POS connectors the API key), so only the
    method and path are written."""

    def __init__(self, fmt: str = "%(levelname)s %(name)s %(message)s") -> None:
        super().__init__(
            fmt,
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "log_context", "request"],
            timestamp="time",
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            log_data["method"] = request.method
            log_data["path"] = request.path
