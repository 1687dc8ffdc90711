"""drf-spectacular's AutoSchema, with the input limits our serializers enforce written so that a client generating
code from the document enforces the same ones, no stricter and no looser.

drf-spectacular copies a RegexValidator's Python pattern into `pattern` as it is. Two of ours do not survive that:
an `inverse_match` validator (a character class that must NOT occur) becomes a pattern that requires one of those
characters, and a pattern using Unicode-aware classes (`\\w`, `\\W`, `\\d`, `\\s`) means ASCII only in the ECMA
dialect OpenAPI names, so a client would refuse "José". The first becomes a negated class over the whole value;
the second is replaced by a pattern registered for it (schema_pattern_register), else left out rather than wrong.
"""

import re
from typing import Any, Literal

from django.core.validators import RegexValidator
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from core.idempotency import MAX_KEY_LENGTH

# Python patterns -> the pattern the document shows instead (None: show none), registered by the app that owns
# the validator.
_SCHEMA_PATTERNS: dict[tuple[str, bool], str | None] = {}
_UNICODE_AWARE_CLASS = re.compile(r"\\[wWdDsSbB]")
_SINGLE_CHARACTER_CLASS = re.compile(r"^\[(?!\^)((?:\\.|[^\]\\])+)\]$")


def _python_pattern(validator: RegexValidator) -> str:
    regex = validator.regex
    return regex if isinstance(regex, str) else regex.pattern


def schema_pattern_register(validator: RegexValidator, pattern: str | None) -> None:
    """Document `pattern` (ECMA 262, anchored, no stricter than the validator) for this validator."""
    _SCHEMA_PATTERNS[(_python_pattern(validator), validator.inverse_match)] = pattern


def _ecma_escapes(pattern: str) -> str:
    """As drf-spectacular writes a pattern: non-ASCII and \\x escapes as \\uXXXX, \\A and \\Z as ^ and $."""
    pattern = pattern.encode("ascii", "backslashreplace").decode().replace(r"\x", r"\u00")
    return pattern.replace(r"\Z", "$").replace(r"\A", "^")


def schema_pattern(validator: RegexValidator) -> str | None:
    """The pattern a client may check for this validator, or None when none can be written faithfully."""
    python_pattern = _python_pattern(validator)
    key = (python_pattern, validator.inverse_match)
    if key in _SCHEMA_PATTERNS:
        return _SCHEMA_PATTERNS[key]
    if _UNICODE_AWARE_CLASS.search(python_pattern):
        return None
    if validator.inverse_match:
        character_class = _SINGLE_CHARACTER_CLASS.match(python_pattern)
        return f"^[^{_ecma_escapes(character_class.group(1))}]*$" if character_class else None
    return _ecma_escapes(python_pattern)


# Headers that every 401 and 429 carries (DRF sets them from the authenticator and the throttle), documented on
# each operation that documents the status.
ERROR_RESPONSE_HEADERS = [
    OpenApiParameter(
        "WWW-Authenticate",
        str,
        OpenApiParameter.HEADER,
        response=[401],
        description='The challenge of the credentials the operation takes (API keys: `Bearer realm="api"`).',
    ),
    OpenApiParameter(
        "Retry-After", int, OpenApiParameter.HEADER, response=[429], description="Seconds to wait before a retry."
    ),
]


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self) -> list[Any]:
        return [*super().get_override_parameters(), *ERROR_RESPONSE_HEADERS]

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        regex_validators = [v for v in field.validators if isinstance(v, RegexValidator)]
        if not regex_validators:
            return
        # drf-spectacular documents the first RegexValidator only, inside oneOf when the field allows blanks.
        target = schema["oneOf"][0] if "oneOf" in schema else schema
        if "pattern" not in target:
            return
        pattern = schema_pattern(regex_validators[0])
        if pattern is None:
            del target["pattern"]
        else:
            target["pattern"] = pattern
        if "oneOf" in schema and len(target) == 1 + ("maxLength" in target):
            # Nothing but the length is left to tell the two alternatives apart: one schema says it all.
            schema.pop("oneOf")
            schema.update(target)


# What core.idempotency.idempotency_key_clean accepts (stripped; "printable" is left to the server).
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH}


def input_field_schema(field: serializers.Field) -> dict[str, Any]:
    """The schema of a query or header value as this input field validates it: type, bounds, length, characters.
    For parameters documented by hand (OpenApiParameter), which drf-spectacular does not derive from a serializer."""
    if isinstance(field, serializers.IntegerField):
        schema: dict[str, Any] = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    schema = {"type": "string"}
    if isinstance(field, serializers.ChoiceField):
        schema["enum"] = [str(choice) for choice in field.choices]
        return schema
    if isinstance(field, serializers.CharField):
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        if not field.allow_blank:
            schema["minLength"] = 1
        regex = next((v for v in field.validators if isinstance(v, RegexValidator)), None)
        pattern = schema_pattern(regex) if regex is not None else None
        if pattern is not None:
            schema["pattern"] = f"(?:^$)|(?:{pattern})" if field.allow_blank else pattern
    return schema


def input_parameter(
    serializer_class: type[serializers.Serializer],
    name: str,
    *,
    field_name: str = "",
    description: str = "",
    location: Literal["query", "header"] = OpenApiParameter.QUERY,
    blank_ignored: bool = False,
) -> OpenApiParameter:
    """A parameter that `serializer_class` validates (as its field `field_name`, by default `name`), documented
    with the limits it enforces. `blank_ignored`: the view drops a blank value before validation, so it may be sent
    blank."""
    field = serializer_class().fields[field_name or name]
    schema = input_field_schema(field)
    if blank_ignored:
        schema.pop("minLength", None)
    return OpenApiParameter(
        name,
        schema,
        location,
        required=field.required,
        description=description or str(field.help_text or ""),
    )
