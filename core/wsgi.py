"""What the WSGI application needs before Django builds a request, where no middleware or error view can help."""

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.http import parse_header_parameters

WsgiApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_CHARSET_PARAMETER = re.compile(r";\s*charset\s*=[^;]*", re.IGNORECASE)


def is_text_encoding(name: str) -> bool:
    """Whether a charset names a codec from text to bytes (DRF's parsers ask the same)."""
    try:
        "".encode(name)
    except (LookupError, UnicodeError):
        return False
    return True


def without_non_text_charsets(application: WsgiApplication) -> WsgiApplication:
    """Django takes a Content-Type charset that codecs.lookup() knows and decodes the query string with it while it
    builds the request; a codec that is not a text encoding (bz2_codec, rot13, hex) raises LookupError there, a 500
    before any middleware. Such a charset is dropped, as Django drops one that Python does not know at all: the
    request is then read as UTF-8."""

    def application_without_non_text_charsets(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        content_type = environ.get("CONTENT_TYPE", "")
        charset = parse_header_parameters(content_type)[1].get("charset") if "charset" in content_type.lower() else None
        if charset and not is_text_encoding(charset):
            environ["CONTENT_TYPE"] = _CHARSET_PARAMETER.sub("", content_type)
        return application(environ, start_response)

    return application_without_non_text_charsets
