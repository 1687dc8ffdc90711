"""The coupon definition page's "Generate vouchers": a form asking for a number of codes, a VoucherBatch queued
through voucher_batch_create, its page showing the progress (and refreshing itself while the job runs), a link to
the vouchers and their CSV export. Driven as the Marketing role, the way the browser test does."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crm.roles import MARKETING, STORE_MANAGERS
from loyalty.models import CouponDefinition, Voucher, VoucherBatch
from loyalty.services.voucher_batches import voucher_batch_create, voucher_batch_generate

DEFINITIONS_URL = "/admin/loyalty/coupondefinition/"
BATCHES_URL = "/admin/loyalty/voucherbatch/"


@pytest.fixture
def marketing(role_client):
    return role_client(MARKETING)


@pytest.fixture
def store_manager(role_client):
    return role_client(STORE_MANAGERS)


@pytest.fixture
def definition(program, coupon_definition_factory):
    return coupon_definition_factory(
        program=program,
        code="gold-10",
        name="Gold 10",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        code_pattern="GOLD-{code}",
    )


def _generate_url(definition) -> str:
    return f"{DEFINITIONS_URL}{definition.pk}/generate-vouchers/"


def test_the_coupon_page_links_to_generate_vouchers(marketing, definition):
    # when
    page = marketing.get(f"{DEFINITIONS_URL}{definition.pk}/change/")

    # then
    assert page.status_code == 200
    assert (
        f'<a href="{_generate_url(definition)}" class="generatevouchers">Generate vouchers</a>' in page.content.decode()
    )


def test_generating_10_vouchers_shows_the_finished_batch_and_links_to_its_vouchers(
    marketing, definition, django_capture_on_commit_callbacks
):
    # given
    form_page = marketing.get(_generate_url(definition))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = marketing.post(_generate_url(definition), {"count": "10"})

    # then
    assert form_page.status_code == 200
    assert '<input type="submit" value="Generate vouchers" class="default">' in form_page.content.decode()
    batch = VoucherBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{BATCHES_URL}{batch.pk}/change/"
    assert (batch.definition, batch.requested_count, batch.issued_count, batch.status) == (definition, 10, 10, "done")
    assert batch.created_by.username == "Marketing"

    # when
    page = marketing.get(response["Location"])
    vouchers_url = f"/admin/loyalty/voucher/?batch__id__exact={batch.pk}"
    vouchers = marketing.get(vouchers_url)

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("Issued 10 of 10 (100%)") == 1
    assert f'<a href="{vouchers_url}">View vouchers</a>' in html
    assert 'http-equiv="refresh"' not in html
    assert len(vouchers.context["cl"].result_list) == 10
    assert {voucher.code[:5] for voucher in vouchers.context["cl"].result_list} == {"GOLD-"}


def test_view_vouchers_of_a_batch_lists_that_batchs_vouchers_only(marketing, definition, voucher_factory):
    # given: two batches of one coupon and a voucher issued by hand
    by_hand = voucher_factory(definition=definition)
    first = voucher_batch_create(definition=definition, count=3)
    voucher_batch_generate(batch_pk=first.pk)
    second = voucher_batch_create(definition=definition, count=2)
    voucher_batch_generate(batch_pk=second.pk)

    # when
    first_page = marketing.get(f"/admin/loyalty/voucher/?batch__id__exact={first.pk}")
    second_page = marketing.get(f"/admin/loyalty/voucher/?batch__id__exact={second.pk}")
    coupon_page = marketing.get(f"/admin/loyalty/voucher/?definition__id__exact={definition.pk}")
    batch_origin = marketing.get(f"/admin/loyalty/voucher/?origin__exact=batch&definition__id__exact={definition.pk}")

    # then
    def shown(page):
        assert page.status_code == 200
        return {voucher.pk for voucher in page.context["cl"].result_list}

    assert shown(first_page) == set(first.vouchers.values_list("pk", flat=True))
    assert len(shown(first_page)) == 3
    assert shown(second_page) == set(second.vouchers.values_list("pk", flat=True))
    assert len(shown(second_page)) == 2
    assert shown(coupon_page) == set(Voucher.objects.values_list("pk", flat=True))
    assert len(shown(coupon_page)) == 6
    assert shown(batch_origin) == shown(first_page) | shown(second_page)
    assert by_hand.pk not in shown(batch_origin)


def test_a_batch_in_progress_refreshes_itself(marketing, definition):
    # given
    batch = VoucherBatch.objects.create(definition=definition, requested_count=4000, issued_count=2000)
    VoucherBatch.objects.filter(pk=batch.pk).update(status=VoucherBatch.Status.RUNNING)

    # when
    page = marketing.get(f"{BATCHES_URL}{batch.pk}/change/")

    # then
    html = page.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "Issued 2,000 of 4,000 (50%)" in html


@pytest.mark.parametrize(
    ("count", "error"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("100001", "Ensure this value is less than or equal to 100000."),
        ("ten", "Enter a whole number."),
        ("6", "The coupon's total limit allows 5 more vouchers."),
    ],
)
def test_a_count_out_of_bounds_is_shown_on_the_form_and_queues_nothing(
    marketing, definition, count, error, voucher_factory
):
    # given: a total limit of 7, two vouchers issued
    CouponDefinition.objects.filter(pk=definition.pk).update(limit_total=7)
    voucher_factory(definition=definition)
    voucher_factory(definition=definition)

    # when
    response = marketing.post(_generate_url(definition), {"count": count})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {"count": [error]}
    assert "The coupon's total limit allows 5 more vouchers." in response.content.decode()
    assert not VoucherBatch.objects.exists()
    assert Voucher.objects.count() == 2


def test_a_refusal_of_the_service_is_shown_on_the_form(marketing, definition):
    # given
    CouponDefinition.objects.filter(pk=definition.pk).update(
        valid_from=datetime(2020, 1, 1, tzinfo=UTC), valid_until=datetime(2021, 1, 1, tzinfo=UTC)
    )

    # when
    response = marketing.post(_generate_url(definition), {"count": "10"})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {"count": ["The coupon has ended."]}
    assert not VoucherBatch.objects.exists()


def test_a_store_manager_cannot_generate_vouchers_or_see_batches(store_manager, definition):
    # given
    batch = VoucherBatch.objects.create(definition=definition, requested_count=1)

    # when
    responses = [
        store_manager.get(_generate_url(definition)),
        store_manager.post(_generate_url(definition), {"count": "10"}),
        store_manager.get(f"{BATCHES_URL}{batch.pk}/change/"),
        store_manager.get(f"{BATCHES_URL}{batch.pk}/vouchers.csv"),
    ]

    # then
    assert [response.status_code for response in responses] == [403] * 4
    assert VoucherBatch.objects.count() == 1
    assert not Voucher.objects.exists()


def test_batch_pages_are_view_only(marketing, definition):
    # given
    batch = VoucherBatch.objects.create(definition=definition, requested_count=3)

    # when
    add = marketing.get(f"{BATCHES_URL}add/")
    edit = marketing.post(f"{BATCHES_URL}{batch.pk}/change/", {"requested_count": "30"})
    changelist = marketing.get(BATCHES_URL)

    # then
    assert (add.status_code, edit.status_code, changelist.status_code) == (403, 403, 200)
    batch.refresh_from_db()
    assert batch.requested_count == 3


def test_the_batch_exports_its_own_vouchers_to_csv_streamed(marketing, definition, voucher_factory):
    # given: two of the batch's vouchers, and vouchers of the same coupon from elsewhere
    batch = VoucherBatch.objects.create(definition=definition, requested_count=2)
    other_batch = VoucherBatch.objects.create(definition=definition, requested_count=1)
    first = voucher_factory(definition=definition, expires_at=datetime(2026, 6, 1, tzinfo=UTC))
    second = voucher_factory(definition=definition)
    Voucher.objects.filter(pk=first.pk).update(
        code="GOLD-AAAA-BBBB", normalised_code="GOLDAAAABBBB", batch=batch, origin="batch"
    )
    Voucher.objects.filter(pk=second.pk).update(
        code="GOLD-CCCC-DDDD", normalised_code="GOLDCCCCDDDD", batch=batch, origin="batch"
    )
    Voucher.objects.filter(pk=voucher_factory(definition=definition).pk).update(batch=other_batch, origin="batch")
    voucher_factory(definition=definition)

    # when
    response = marketing.get(f"{BATCHES_URL}{batch.pk}/vouchers.csv")

    # then
    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Disposition"] == f'attachment; filename="vouchers-gold-10-batch-{batch.pk}.csv"'
    assert b"".join(response.streaming_content).decode() == (
        "code,status,origin,customer,expires_at,redeemed_at\r\n"
        "GOLD-AAAA-BBBB,issued,batch,,2026-06-01T00:00:00+00:00,\r\n"
        "GOLD-CCCC-DDDD,issued,batch,,,\r\n"
    )
