"""Pure, database-free conversions between the vendors' wire conventions and our data."""

from datetime import UTC, date, datetime
from typing import Any

# Model field -> the SPI path an associate's POS knows it by, for error messages that name the field.
SPI_FIELD_PATHS = {
    "salutation": "profile.salutation",
    "first_name": "profile.firstName",
    "last_name": "profile.lastName",
    "email": "profile.email",
    "phone_mobile": "profile.phoneMobile",
    "phone_home": "profile.phoneHome",
    "birthday": "profile.birthday",
    "gender": "profile.gender",
    "preferred_language": "profile.preferredLanguage",
    "customer_group": "profile.customerGroup",
    "alternate_customer_id": "profile.alternateCustomerId",
    "tax_id": "profile.taxInfo.taxId",
    "country": "profile.country",
    "postal_code": "profile.postalCode",
    "allow_sms_notifications": "profile.allowSmsNotifications",
    "customer_id": "profile.customerId",
    "loyalty_id": "profile.loyaltyId",
    "store_id": "storeAttribution.storeId",
    "address_id": "addressId",
    "address.first_name": "address.firstName",
    "address.last_name": "address.lastName",
    "address.address_line1": "address.addressLine1",
    "address.address_line2": "address.addressLine2",
    "address.city": "address.city",
    "address.state": "address.state",
    "address.postal_code": "address.postalCode",
    "address.country_code": "address.countryCode",
    "address.phone": "address.phone",
}

EARLIEST_YEAR = 1900
LATEST_YEAR = 2200


def datetime_to_epoch_ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def date_to_epoch_ms(value: date | None) -> int | None:
    if value is None:
        return None
    return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)


def epoch_ms_to_date(value: int) -> date:
    """The UTC date of an epoch-millisecond timestamp. Raises ValueError outside 1900-2200, which also catches
    a timestamp sent in seconds instead of milliseconds only when it is absurd; a plausible one is taken as ms."""
    try:
        result = datetime.fromtimestamp(value / 1000, tz=UTC).date()
    except (OverflowError, OSError) as error:
        raise ValueError("out of range") from error
    if not EARLIEST_YEAR <= result.year <= LATEST_YEAR:
        raise ValueError("out of range")
    return result


def parse_spi_date(value: Any) -> date:
    """A date sent as "YYYY-MM-DD", an ISO timestamp, or epoch milliseconds (number or digit string)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(value, int | float):
        return epoch_ms_to_date(int(value))
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return epoch_ms_to_date(int(text))
        if len(text) > 10 and text[10] in "T ":
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        return date.fromisoformat(text)
    raise ValueError("not a date")


def without_empty_values(value: Any) -> Any:
    """Drop None, "" and {} at every depth: the SPI leaves unused fields out rather than sending null.
    Lists stay, even empty ones (`orderList: []` is meaningful), and so do false and 0."""
    if isinstance(value, dict):
        cleaned = {key: without_empty_values(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item is not None and item != "" and item != {}}
    if isinstance(value, list):
        return [without_empty_values(item) for item in value]
    return value
