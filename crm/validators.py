"""Character rules for text a POS sends. Queries are parametrised, so these are not what stops SQL injection;
they stop markup and script fragments from being stored and later rendered by some other system."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# Letters of any script, combining marks, digits, spaces and the punctuation real names use (O'Brien, Anne-Marie,
# St. John, "Smith, Jr."). No markup, quotes, semicolons, equals signs or brackets.
validate_person_name = RegexValidator(
    regex=r"^(?:[^\W_](?:[^\W_]|[\s'’.,\-]|[\u0300-\u036f])*)?$",
    message=_(
        "Use letters, digits, spaces, apostrophes, hyphens, commas and full stops, starting with a letter or digit."
    ),
    code="invalid_name",
)

# Free text (address lines, city): anything printable except markup characters and control characters.
validate_plain_text = RegexValidator(
    regex=r"[<>{}\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
    inverse_match=True,
    message=_("Angle brackets, braces and control characters are not allowed."),
    code="invalid_text",
)

validate_code = RegexValidator(
    regex=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$",
    message=_("Use letters, digits, dots, colons, hyphens and underscores only."),
    code="invalid_code",
)

validate_country_code = RegexValidator(
    regex=r"^[A-Za-z]{2,3}$", message=_("Use an ISO 3166 country code (two or three letters)."), code="invalid_country"
)

validate_language = RegexValidator(
    regex=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$",
    message=_("Use a language tag such as en, en-US or de_DE."),
    code="invalid_language",
)

# Card and account numbers as people type them from a card: "5123 4567 8903" or "5123-4567-8903".
validate_typed_number = RegexValidator(
    regex=r"^[A-Za-z0-9][A-Za-z0-9 \-]*$",
    message=_("Use letters, digits, spaces and hyphens only."),
    code="invalid_number",
)
