"""The JSON parser of every API surface: DRF's, with a bound on how deeply arrays and objects may nest.

Python's json module recurses once per level, so a body of a few kilobytes nested two thousand deep raises
RecursionError (a 500) before any serializer sees it, and one nested a few hundred deep would still recurse through
the serializers and the error renderer. The deepest body any operation takes is six levels (an SPI customer with
its address list wrapped in `customer`, a bulk event's cart lines); 32 leaves room for growth and no legitimate
client comes near it. Too deep is a parse error: 400 in each surface's own shape (`parse_error`, the SPI's
INVALID_JSON).
"""

import io
import re
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_NESTING_DEPTH = 32

# A JSON string literal: brackets inside one do not nest anything.
_STRING_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_nesting_exceeds(text: str, limit: int) -> bool:
    """Whether arrays and objects in this JSON text nest more than `limit` deep, read without parsing (and so
    without recursing); stops at the first bracket past the limit."""
    depth = 0
    for bracket in _BRACKET.finditer(_STRING_LITERAL.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream: IO[Any], media_type: str | None = None, parser_context: Any = None) -> Any:
        body = stream.read()
        try:
            # DRF's own charset check (it refuses codecs that are not text encodings); not in the stubs.
            text = body.decode(parsers.get_encoding(parser_context or {}))  # type: ignore[attr-defined]
        except UnicodeDecodeError:
            text = ""  # JSONParser answers an undecodable body with its own parse error
        if json_nesting_exceeds(text, MAX_JSON_NESTING_DEPTH):
            raise ParseError(f"JSON parse error - arrays and objects nest deeper than {MAX_JSON_NESTING_DEPTH} levels.")
        return super().parse(io.BytesIO(body), media_type, parser_context)
