import functools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Aggregate, CharField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.sql.compiler import SQLCompiler
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.expressions import ByteOrder
from crm.error_codes import CrmErrorCode
from crm.models import Address, ApiClient, Customer, ExternalCustomerId
from crm.normalisation import normalise_email, normalise_phone, normalise_postal_code, search_key

POSTAL_CODE_ADDRESS_MATCHES = 1000


def customer_profile_queryset() -> QuerySet[Customer]:
    """Customers with everything a full profile shows, in a fixed number of queries whatever their size."""
    return Customer.objects.select_related(
        "profile_address", "consents", "created_store", "created_associate"
    ).prefetch_related(Prefetch("addresses", queryset=Address.objects.order_by("position", "id")))


def customer_get(*, public_id: str, queryset: QuerySet[Customer] | None = None) -> Customer:
    """The customer with this public id. Erased customers are not found here (their PII is gone).

    Raises ApplicationError CUSTOMER_NOT_FOUND (404).
    """
    queryset = queryset if queryset is not None else customer_profile_queryset()
    customer = queryset.exclude(status=Customer.Status.ERASED).filter(public_id=public_id.strip()).first()
    if customer is None:
        raise ApplicationError(_("Customer not found."), code=CrmErrorCode.CUSTOMER_NOT_FOUND, status=404)
    return customer


def customer_get_by_external_id(*, source: str, external_id: str) -> Customer | None:
    """The customer another system (`source`) calls `external_id`, or None; erased customers are not found."""
    link = (
        ExternalCustomerId.objects.select_related("customer")
        .filter(source=source, external_id=external_id)
        .exclude(customer__status=Customer.Status.ERASED)
        .first()
    )
    return link.customer if link is not None else None


def customer_public_id_by_number(*, number: int) -> str | None:
    """The public id of the customer whose numeric id is `number`, or None. The numeric id is the primary key: vendor
    dialects whose clients hold a customer id as a number (Capillary's `id`, LoyaltyLion's `id`) get it, compat/ids.py.
    Erased customers are found (callers answer them as erased)."""
    return Customer.objects.filter(pk=number).values_list("public_id", flat=True).first()


@dataclass(frozen=True)
class CustomerSearchCriteria:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    postal_code: str = ""
    customer_id: str = ""
    # Customers already chosen by another app's identifier (the loyalty id), as a pk subquery.
    restrict_to_pks: QuerySet | None = None

    def is_empty(self) -> bool:
        texts = (self.first_name, self.last_name, self.email, self.phone, self.postal_code, self.customer_id)
        return not any(text.strip() for text in texts) and self.restrict_to_pks is None


def customer_search_queryset(
    *, criteria: CustomerSearchCriteria, queryset: QuerySet[Customer] | None = None
) -> QuerySet[Customer]:
    """Customers matching every given criterion: name prefixes (case- and accent-insensitive), exact normalised
    email, phone (mobile or home) and postal code (profile or any address), exact customer id.

    Every criterion runs on an index; an empty search is refused (EMPTY_SEARCH) rather than scanning the table.
    """
    if criteria.is_empty():
        raise ApplicationError(
            _("Give at least one search criterion: name, email, phone, loyalty id, postal code or customer id."),
            code=CrmErrorCode.EMPTY_SEARCH,
        )
    queryset = queryset if queryset is not None else customer_profile_queryset()
    queryset = queryset.exclude(status=Customer.Status.ERASED).alias(
        last_name_order=ByteOrder("last_name_search"), first_name_order=ByteOrder("first_name_search")
    )
    if criteria.first_name.strip():
        queryset = queryset.filter(first_name_search__startswith=search_key(criteria.first_name))
    if criteria.last_name.strip():
        queryset = queryset.filter(_prefix_range("last_name_order", search_key(criteria.last_name)))
    if criteria.email.strip():
        queryset = queryset.filter(email=normalise_email(criteria.email))
    if criteria.phone.strip():
        phone = normalise_phone(criteria.phone, default_region=settings.PHONENUMBER_DEFAULT_REGION)
        queryset = queryset.filter(Q(phone_mobile=phone) | Q(phone_home=phone)) if phone else queryset.none()
    if criteria.postal_code.strip():
        postal_code = normalise_postal_code(criteria.postal_code)
        # Resolved first: PostgreSQL plans `a = x OR pk IN (subquery)` as a sequential scan, but `a = x OR pk IN
        # (1, 2, 3)` as a BitmapOr of two index scans. The bound keeps the literal list small.
        with_address_there = list(
            Address.objects.filter(postal_code_search=postal_code)
            .values_list("customer_id", flat=True)
            .distinct()[:POSTAL_CODE_ADDRESS_MATCHES]
        )
        queryset = queryset.filter(Q(postal_code_search=postal_code) | Q(pk__in=with_address_there))
    if criteria.customer_id.strip():
        queryset = queryset.filter(public_id=criteria.customer_id.strip())
    if criteria.restrict_to_pks is not None:
        queryset = queryset.filter(pk__in=criteria.restrict_to_pks)
    # The order of the customer_name_order index: a page is read from it, never the whole match set sorted.
    return queryset.order_by("last_name_order", "first_name_order", "id")


def _prefix_range(alias: str, prefix: str) -> Q:
    """`alias` starts with `prefix`, as the range [prefix, prefix with its last character's successor): on a
    ByteOrder column both databases answer it from an index (PostgreSQL's LIKE would need the pattern operator
    class, which cannot also give the ORDER BY; SQLite's LIKE ... ESCAPE uses no index at all)."""
    if not prefix:
        return Q()
    if ord(prefix[-1]) == sys.maxunicode:
        return Q(**{f"{alias}__startswith": prefix})
    return Q(**{f"{alias}__gte": prefix, f"{alias}__lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)})


def customer_search(
    *, criteria: CustomerSearchCriteria, limit: int, queryset: QuerySet[Customer] | None = None
) -> list[Customer]:
    """The first `limit` customers of customer_search_queryset."""
    return list(customer_search_queryset(criteria=criteria, queryset=queryset)[:limit])


class _JoinedStoreCodes(Aggregate):
    """A group's store codes in one comma-separated string, NULL for none: GROUP_CONCAT on SQLite, STRING_AGG on
    PostgreSQL. A comma is safe as the separator: store codes cannot hold one (crm/validators.py validate_code)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Sequence[Any]]:
        return self.as_sql(compiler, connection, function="STRING_AGG", **extra_context)


ALLOWED_STORE_CODES = "allowed_store_codes_joined"


@functools.cache
def api_client_allowed_store_codes_annotation() -> dict[str, Subquery]:
    """Annotate an ApiClient queryset with this to load the client's allowed stores in the same query (the key
    lookup of every request does, crm/authentication.py): api_client_allowed_store_codes then needs none. Built once
    per process (annotate() resolves a copy of it, leaving it as it was): building it took a third of the lookup."""
    through = ApiClient.allowed_stores.through
    codes = (
        through.objects.filter(apiclient_id=OuterRef("pk"))
        .order_by()
        .values("apiclient_id")
        .annotate(codes=_JoinedStoreCodes("store__code"))
        # django-stubs' plugin checks values() on an auto-created through model against its columns alone.
        .values("codes")[:1]  # type: ignore[misc]
    )
    return {ALLOWED_STORE_CODES: Subquery(codes, output_field=CharField())}


def api_client_allowed_store_codes(*, client: ApiClient) -> frozenset[str]:
    """The codes of the stores the client is restricted to; empty: it is not restricted. No query when the client
    was loaded with api_client_allowed_store_codes_annotation, one otherwise."""
    if hasattr(client, ALLOWED_STORE_CODES):
        joined = getattr(client, ALLOWED_STORE_CODES) or ""
        return frozenset(code for code in joined.split(",") if code)
    return frozenset(client.allowed_stores.values_list("code", flat=True))


def api_client_may_act_for_store(*, client: ApiClient, store_code: str) -> bool:
    """A client restricted to some stores may attribute changes only to those; an unrestricted one to any."""
    allowed = api_client_allowed_store_codes(client=client)
    return not allowed or store_code.strip() in allowed


def api_client_store_check(*, client: ApiClient, store_code: str | None, field: str, store_required: bool) -> None:
    """Raises STORE_NOT_ALLOWED (403, naming the request's `field`) unless the client may act for the store.

    With `store_required` (a write that records the store it names), a client restricted to some stores must name
    one: naming none raises STORE_REQUIRED (403), as unattributed is not one of its stores. An unrestricted client
    may always name none."""
    if not store_code:
        if store_required and api_client_allowed_store_codes(client=client):
            raise ApplicationError(
                _("Required: this API key may act only for some stores."),
                code=CrmErrorCode.STORE_REQUIRED,
                status=403,
                extra={"field": field},
            )
        return
    if not api_client_may_act_for_store(client=client, store_code=store_code):
        raise ApplicationError(
            _("This API key may not act for store %(store)s.") % {"store": store_code},
            code=CrmErrorCode.STORE_NOT_ALLOWED,
            status=403,
            extra={"field": field},
        )
