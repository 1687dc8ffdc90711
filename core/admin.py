"""Admin building blocks every app uses: crm, loyalty and webhooks (which imports neither of the others)."""

from functools import cached_property
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError

# TimeStampedModel's fields: read-only in every admin, since nobody sets them by hand.
TIMESTAMPS = ("created_at", "updated_at")


def admin_error_text(error: ApplicationError | ValidationError) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    field = error.extra.get("field")
    return f"{field}: {error.message}" if field else error.message


class ServiceModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves call services: their ApplicationError or ValidationError becomes an error message.

    The forms catch the usual mistakes and re-display with the error; this covers what only the service sees (a
    rule the form does not repeat, two people saving the same email at once). The exception leaves the admin's
    transaction, so the record and all its inlines roll back together and nothing is half-saved.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ApplicationError, ValidationError) as error:
            self.message_user(request, admin_error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ViewOnlyMixin:
    """Ledgers, histories and delivery logs are written by services only: the admin shows them."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class LargeTablePaginator(Paginator):
    """A changelist paginator that never counts a large table row by row.

    Django's admin counts the filtered rows on every page load (`SELECT COUNT(*)`), which on PostgreSQL reads every
    row of a million-row table (MVCC keeps no row count) and takes a large part of a second. Instead it counts up to
    EXACT_COUNT_LIMIT rows, with `COUNT(*)` over a `LIMIT`ed subquery that stops early (at most that many index
    entries: a few milliseconds). Small lists and selective searches get their exact count. Beyond the limit:

    - an unfiltered list on PostgreSQL takes the planner's row estimate of the table (`pg_class.reltuples`, kept
      current by autovacuum's ANALYZE), so every page stays reachable; it shows as "about 1,000,000". An estimate a
      little short hides the last rows until the next ANALYZE; one a little over leaves the last page short;
    - any other list (filtered, searched, or on SQLite, which keeps no row estimate) shows as "more than 10,000"
      and only its first EXACT_COUNT_LIMIT rows are reachable page by page: a person refines the search rather
      than reading further.

    A deep page (page 2000 is OFFSET 199,900) picks its primary keys first, in a subquery the database answers
    from the ordering index alone, and reads only the rows it shows: on a million customers page 2000 takes 23 ms
    instead of 84 ms, which the database spends fetching the 199,900 skipped rows.
    """

    EXACT_COUNT_LIMIT = 10_000
    DEFERRED_JOIN_OFFSET = 1_000

    # What the changelist shows instead of the bare number; None when the count is exact.
    count_text: str | None = None

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        # Without ORDER BY the database stops at the first EXACT_COUNT_LIMIT + 1 rows, in whatever order is cheapest.
        counted = queryset.order_by()[: self.EXACT_COUNT_LIMIT + 1].count()
        if counted <= self.EXACT_COUNT_LIMIT:
            return counted
        estimate = _table_row_estimate(queryset) if _is_unfiltered(queryset) else None
        if estimate is not None and estimate > self.EXACT_COUNT_LIMIT:
            self.count_text = _("about %(count)s") % {"count": f"{estimate:,}"}
            return estimate
        self.count_text = _("more than %(count)s") % {"count": f"{self.EXACT_COUNT_LIMIT:,}"}
        return self.EXACT_COUNT_LIMIT

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        if isinstance(rows, QuerySet) and bottom >= self.DEFERRED_JOIN_OFFSET:
            # The subquery keeps its ORDER BY (it is sliced), and the outer query orders the page the same way.
            rows = rows.filter(pk__in=rows.values("pk")[bottom:top])
        else:
            rows = rows[bottom:top]
        # _get_page is Paginator's hook for the Page class (django/core/paginator.py); django-stubs leaves it out.
        return self._get_page(rows, number, self)  # type: ignore[attr-defined]


def _is_unfiltered(queryset: QuerySet) -> bool:
    query = queryset.query
    return not query.where and not query.distinct and query.low_mark == 0 and query.high_mark is None


def _table_row_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of the rows in the queryset's table; None elsewhere, or before the first ANALYZE."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # reltuples is -1 for a table never analysed (PostgreSQL 14+), 0 for one analysed while empty.
        table = queryset.model._meta.db_table
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return row[0] if row and row[0] > 0 else None
