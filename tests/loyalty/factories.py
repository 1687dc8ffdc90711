"""Loyalty test data. Accounts, coupons, vouchers and purchases are made by the services, not by objects.create():
the ledger must equal the cached balance, an account has its number, card and entry tier, a voucher has a unique
code within the coupon's limits, and a test that builds them this way cannot hold data the application never
would. Programs and tiers have no service (the admin saves them), so their factories save the model."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from crm.services.context import ChangeContext
from loyalty.coupon_codes import code_normalise
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Purchase, Tier, Voucher
from loyalty.selectors.accounts import program_get_default
from loyalty.services.coupon_definitions import coupon_definition_create
from loyalty.services.enrolment import loyalty_account_enrol
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add
from loyalty.services.purchases import purchase_checkout, request_fingerprint
from loyalty.services.vouchers import voucher_issue
from tests.crm.factories import CustomerFactory


class ProgramFactory(DjangoModelFactory):
    """A program besides the default one (which the data migration creates: use the `program` fixture)."""

    class Meta:
        model = Program

    code = factory.Sequence(lambda n: f"program-{n}")
    name = factory.Sequence(lambda n: f"Program {n}")


class TierFactory(DjangoModelFactory):
    """A tier of the default program above its entry tier, unless told otherwise."""

    class Meta:
        model = Tier

    program = factory.LazyFunction(program_get_default)
    rank = factory.Sequence(lambda n: n + 1)
    code = factory.LazyAttribute(lambda tier: f"tier-{tier.rank}")
    name = factory.LazyAttribute(lambda tier: f"Tier {tier.rank}")
    threshold = factory.LazyAttribute(lambda tier: Decimal(100 * tier.rank))


class LoyaltyAccountFactory(DjangoModelFactory):
    """An account enrolled by loyalty_account_enrol (entry tier, account number, digital card, the tier's vouchers,
    loyalty.enrolled), in the default program unless told otherwise, holding `points` given as an event would."""

    class Meta:
        model = LoyaltyAccount
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    program = factory.LazyFunction(program_get_default)
    enrolled_store = None
    points = 0

    @classmethod
    def _create(cls, model_class, *, customer, program, enrolled_store, points):
        account = loyalty_account_enrol(customer=customer, program=program, context=ChangeContext(store=enrolled_store))
        if points:
            account = points_add(account=account, points=points, origin=EntrySource(source="event"))
        return account


class CouponDefinitionFactory(DjangoModelFactory):
    """A coupon of the default program made by coupon_definition_create: 5.00 off unless told otherwise (a free item
    has no value). Any other field of the model (channels, valid_from, limits, auto_apply, ...) and eligible_tiers
    pass through."""

    class Meta:
        model = CouponDefinition
        skip_postgeneration_save = True

    program = factory.LazyFunction(program_get_default)
    code = factory.Sequence(lambda n: f"coupon-{n}")
    name = factory.LazyAttribute(lambda definition: definition.code.replace("-", " ").title())
    kind = CouponDefinition.Kind.AMOUNT
    value = factory.LazyAttribute(
        lambda definition: Decimal("0") if definition.kind == CouponDefinition.Kind.FREE_ITEM else Decimal("5.00")
    )

    @classmethod
    def _create(cls, model_class, **fields):
        return coupon_definition_create(**fields)


class VoucherFactory(DjangoModelFactory):
    """A voucher issued by voucher_issue (a unique code, the coupon's limits, coupon.issued for a customer's): to
    `customer`, or an anonymous code when customer is None. `code` replaces the generated code with one the test
    names, as a till would scan it."""

    class Meta:
        model = Voucher
        skip_postgeneration_save = True

    definition = factory.SubFactory(CouponDefinitionFactory)
    customer = None

    @classmethod
    def _create(cls, model_class, *, code=None, **fields):
        voucher = voucher_issue(**fields)
        if code is not None:
            voucher.code, voucher.normalised_code = code, code_normalise(code)
            Voucher.objects.filter(pk=voucher.pk).update(code=voucher.code, normalised_code=voucher.normalised_code)
        return voucher


class PurchaseFactory(DjangoModelFactory):
    """A checkout recorded by purchase_checkout (earned points, burned ones, the tier), with no lines or items."""

    class Meta:
        model = Purchase
        skip_postgeneration_save = True

    account = factory.SubFactory(LoyaltyAccountFactory)
    transaction_id = factory.Sequence(lambda n: f"T{n:05d}")
    total = Decimal("100.00")
    points_burned = 0

    @classmethod
    def _create(cls, model_class, *, account, transaction_id, total, points_burned, **fields):
        total = Decimal(total)
        payload = {"transaction_id": transaction_id, "total": str(total), "points_burned": points_burned}
        return purchase_checkout(
            account=account,
            transaction_id=transaction_id,
            total=total,
            lines=[],
            items=[],
            points_burned=points_burned,
            fingerprint=request_fingerprint(payload),
            **fields,
        ).purchase
