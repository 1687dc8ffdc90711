from enum import StrEnum
from typing import Any


class ApplicationError(Exception):
    """A business rule said no. `code` is an app's error-code enum; `status` is the HTTP status an API answers."""

    def __init__(self, message: str, *, code: StrEnum, status: int = 400, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.extra = extra or {}
