from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.expressions import ByteOrder
from core.models import TimeStampedModel
from crm.validators import (
    validate_code,
    validate_country_code,
    validate_language,
    validate_person_name,
    validate_plain_text,
)


class Store(TimeStampedModel):
    """A physical store. POS sends its own store id (`storeAttribution.storeId`), kept here as `code`."""

    code = models.CharField(max_length=64, unique=True, validators=[validate_code])
    name = models.CharField(max_length=200, blank=True, validators=[validate_plain_text])
    country_code = models.CharField(max_length=2, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("code",)

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()


class Associate(TimeStampedModel):
    """A store associate, identified by the POS's associate id, unique within a store."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="associates")
    code = models.CharField(max_length=64, validators=[validate_code])
    name = models.CharField(max_length=200, blank=True, validators=[validate_plain_text])

    class Meta:
        ordering = ("store", "code")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("store", "code"), name="associate_code_unique_per_store")
        ]

    def __str__(self) -> str:
        return f"{self.code} @ {self.store.code}"


class Customer(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        BLOCKED = "blocked", "Blocked"
        ERASED = "erased", "Erased"

    # The id every API shows; the database pk never leaves the building.
    public_id = models.CharField(max_length=32, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    salutation = models.CharField(max_length=32, blank=True, validators=[validate_person_name])
    first_name = models.CharField(max_length=100, blank=True, validators=[validate_person_name])
    last_name = models.CharField(max_length=100, blank=True, validators=[validate_person_name])
    # Case- and accent-folded copies of the names: prefix search runs on these, with an index.
    first_name_search = models.CharField(max_length=100, blank=True, editable=False)
    last_name_search = models.CharField(max_length=100, blank=True, editable=False)
    email = models.EmailField(max_length=254, blank=True, help_text="Stored lower-case.")
    phone_mobile = models.CharField(max_length=32, blank=True, help_text="E.164 where the number could be parsed.")
    phone_home = models.CharField(max_length=32, blank=True, help_text="E.164 where the number could be parsed.")
    birthday = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=32, blank=True, validators=[validate_plain_text])
    preferred_language = models.CharField(max_length=16, blank=True, validators=[validate_language])
    customer_group = models.CharField(max_length=64, blank=True, validators=[validate_plain_text])
    alternate_customer_id = models.CharField(max_length=64, blank=True, validators=[validate_plain_text])
    tax_id = models.CharField(max_length=64, blank=True, validators=[validate_plain_text])
    country = models.CharField(max_length=64, blank=True, validators=[validate_plain_text])
    postal_code = models.CharField(max_length=20, blank=True, validators=[validate_plain_text])
    postal_code_search = models.CharField(max_length=20, blank=True, editable=False)
    allow_sms_notifications = models.BooleanField(null=True, blank=True)
    profile_address = models.ForeignKey(
        "crm.Address", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_associate = models.ForeignKey(Associate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    custom_attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        # By pk, which every database answers from an index; searches order by name explicitly.
        ordering = ("-id",)
        permissions: ClassVar = [("erase_customer", "Can erase a customer's personal data (erasure requests)")]
        indexes: ClassVar = [
            # varchar_pattern_ops lets PostgreSQL answer `LIKE 'abc%'` from the index under any collation;
            # other databases ignore opclasses.
            # Name search (crm/selectors.py customer_search_queryset): the last-name prefix as a range and the
            # page in this order, both from the index (at 1,000,000 customers a common prefix matched 10,000 rows,
            # all read and sorted to keep 20).
            models.Index(
                ByteOrder("last_name_search"), ByteOrder("first_name_search"), F("id"), name="customer_name_order"
            ),
            models.Index(
                fields=("first_name_search",), opclasses=("varchar_pattern_ops",), name="customer_first_name_prefix"
            ),
            models.Index(fields=("phone_mobile",), name="customer_phone_mobile"),
            models.Index(fields=("phone_home",), name="customer_phone_home"),
            models.Index(fields=("postal_code_search",), name="customer_postal_code"),
            models.Index(fields=("alternate_customer_id",), name="customer_alternate_id"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("email",),
                condition=~Q(email=""),
                name="customer_email_unique",
                violation_error_message=_("This email address is already used by another customer."),
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name or '(no name)'} [{self.public_id}]"


class Address(TimeStampedModel):
    """One entry of a customer's `addressList`, de-duplicated on its normalised content (`fingerprint`)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    public_id = models.CharField(max_length=32, unique=True, editable=False)
    position = models.PositiveIntegerField(default=0)
    first_name = models.CharField(max_length=100, blank=True, validators=[validate_person_name])
    last_name = models.CharField(max_length=100, blank=True, validators=[validate_person_name])
    address_line1 = models.CharField(max_length=200, blank=True, validators=[validate_plain_text])
    address_line2 = models.CharField(max_length=200, blank=True, validators=[validate_plain_text])
    city = models.CharField(max_length=100, blank=True, validators=[validate_plain_text])
    state = models.CharField(max_length=100, blank=True, validators=[validate_plain_text])
    postal_code = models.CharField(max_length=20, blank=True, validators=[validate_plain_text])
    postal_code_search = models.CharField(max_length=20, blank=True, editable=False)
    country_code = models.CharField(max_length=3, blank=True, validators=[validate_country_code])
    phone = models.CharField(max_length=32, blank=True)
    fingerprint = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ("customer", "position", "id")
        verbose_name_plural = "addresses"
        indexes: ClassVar = [models.Index(fields=("postal_code_search",), name="address_postal_code")]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("customer", "fingerprint"),
                name="address_unique_content_per_customer",
                violation_error_message=_("This address is already in the customer's address list."),
            ),
        ]

    def __str__(self) -> str:
        parts = [self.address_line1, self.postal_code, self.city, self.country_code]
        return ", ".join(part for part in parts if part)


CONSENT_NAMES = (
    "agree_to_tc",
    "direct_mail_sign_up",
    "e_receipt",
    "loyalty_sign_up",
    "news_letter_sign_up",
    "phone_sign_up",
    "sms_sign_up",
)


class Consents(TimeStampedModel):
    """The seven SPI consents. Null means never asked, which the SPI leaves out rather than sending false."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="consents")
    agree_to_tc = models.BooleanField(null=True, blank=True, verbose_name="agreed to T&C")
    direct_mail_sign_up = models.BooleanField(null=True, blank=True)
    e_receipt = models.BooleanField(null=True, blank=True, verbose_name="e-receipt")
    loyalty_sign_up = models.BooleanField(null=True, blank=True)
    news_letter_sign_up = models.BooleanField(null=True, blank=True, verbose_name="newsletter sign-up")
    phone_sign_up = models.BooleanField(null=True, blank=True)
    sms_sign_up = models.BooleanField(null=True, blank=True, verbose_name="SMS sign-up")

    class Meta:
        verbose_name_plural = "consents"

    def __str__(self) -> str:
        return f"Consents of {self.customer_id}"


class ConsentChange(models.Model):
    """Append-only consent history: which consent, the new value, and who changed it, when and where."""

    class Channel(models.TextChoices):
        POS = "pos", "POS (Clienteling SPI)"
        ADMIN = "admin", "Back office"
        API = "api", "API"
        SYSTEM = "system", "System"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_changes")
    consent = models.CharField(max_length=32, choices=[(name, name) for name in CONSENT_NAMES])
    previous_value = models.BooleanField(null=True)
    new_value = models.BooleanField(null=True)
    changed_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    associate = models.ForeignKey(Associate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_client = models.ForeignKey("crm.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-changed_at", "-id")

    def __str__(self) -> str:
        return f"{self.consent} {self.previous_value} -> {self.new_value}"


class ExternalCustomerId(TimeStampedModel):
    """Another system's id for one of our customers: an Antavo till's customer UUID, a migrated CRM's key.

    One id per customer and source: a source names the system (`antavo`, `import`, ...), so the same string from two
    systems can name two customers. Deleted on erasure (an external id identifies a person).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_ids")
    source = models.CharField(max_length=32, validators=[validate_code])
    external_id = models.CharField(max_length=128, validators=[validate_plain_text])

    class Meta:
        ordering = ("source", "external_id")
        verbose_name = "external customer id"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("source", "external_id"),
                name="external_customer_id_unique_per_source",
                violation_error_message=_("This external id already names another customer."),
            ),
            models.UniqueConstraint(
                fields=("source", "customer"),
                name="external_customer_id_one_per_customer_and_source",
                violation_error_message=_("The customer already has an id from this source."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class ApiClient(TimeStampedModel):
    """A system that calls our APIs (a POS connector, a Scan & Go vendor, a web shop).

    Only a SHA-256 of the key is stored: keys are 256-bit random tokens, so a fast hash is enough, and the
    lookup by hash needs no constant-time comparison.
    """

    class Scope(models.TextChoices):
        CLIENTELING = "clienteling", "Clienteling SPI (POS)"
        SCAN_AND_GO = "scan_and_go", "Scan & Go customer profile"
        LOYALTY_READ = "loyalty:read", "Loyalty API: read"
        LOYALTY_WRITE = "loyalty:write", "Loyalty API: write"
        PRIVACY = "privacy", "Privacy (PII erasure)"

    name = models.CharField(max_length=100, unique=True)
    key_prefix = models.CharField(max_length=16, editable=False, help_text="The first characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, blank=True)
    allowed_stores = models.ManyToManyField(Store, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Antavo's Escher request signatures (compat/antavo/escher.py): an HMAC key, so kept in clear, as a webhook
    # endpoint's secret is; shown once when generated, never in a form. Empty: the client does not sign.
    escher_secret = models.CharField(max_length=100, blank=True, editable=False)

    # DRF reads request.user.is_authenticated; an API client that got this far is authenticated.
    is_authenticated = True

    class Meta:
        ordering = ("name",)
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
