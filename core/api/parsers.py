from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "payload_too_large"


class BoundedJSONParser(JSONParser):
    """JSONParser that refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE before reading them.

    Django enforces that limit only for request.body and form parsing; DRF reads the stream directly.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared_length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if limit is not None and declared_length > limit:
            raise PayloadTooLarge(f"Request body is larger than {limit} bytes.")
        return super().parse(stream, media_type, parser_context)
