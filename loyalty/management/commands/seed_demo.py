"""`make run` calls this right before the server starts: demo stores, associates and customers (signed up over the
last twelve weeks), twelve weeks of loyalty history (loyalty/management/demo_history.py), an admin login and a fresh
API key, then curl lines that work against the running SPI. Safe to run on every start: a second run changes
nothing but the API key."""

import importlib.util
import random
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from crm.models import ApiClient, Associate, ConsentChange, Customer, Store
from crm.roles import MARKETING, STORE_MANAGERS
from crm.services.api_clients import api_client_create, api_client_rotate_key, api_client_set_scopes
from crm.services.context import ChangeContext
from crm.services.stores import associate_get_or_create, store_get_or_create
from loyalty.models import Card, LoyaltyAccount
from loyalty.selectors.accounts import program_get_default
from loyalty.services.cards import card_block, card_issue
from loyalty.services.customers import customer_sign_up

SEED = 20250101
DEMO_ID_PREFIX = "DEMO-"
MAX_CUSTOMERS = 9999  # DEMO-0001 .. DEMO-9999
ASSOCIATES_PER_STORE = 3
ENROLLED_SHARE = 0.6
API_CLIENT_NAME = "Demo POS"
API_CLIENT_SCOPES = ("clienteling", "scan_and_go", "loyalty:read", "loyalty:write", "privacy")
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"  # noqa: S105 - the whole point of a demo login; refused unless DEBUG or --force
# One login per back-office role, password = user name, so both roles can be tried at once (same DEBUG rule).
ROLE_USERS = (("manager", STORE_MANAGERS), ("marketing", MARKETING))
# Physical loyalty cards for the first enrolled demo customers, printed as "4000 0000 0001"; the last one is
# blocked, so that Scan & Go shows a denial too.
DEMO_CARDS = 3
DEMO_CARD_STORE = "NYC01"


@dataclass(frozen=True)
class DemoStore:
    code: str
    city: str
    state: str
    area_code: str
    first_zip: int
    last_zip: int


STORES = (
    DemoStore("NYC01", "New York", "NY", "212", 10001, 10040),
    DemoStore("SFO01", "San Francisco", "CA", "415", 94102, 94134),
    DemoStore("CHI01", "Chicago", "IL", "312", 60601, 60661),
    DemoStore("BOS01", "Boston", "MA", "617", 2108, 2136),
    DemoStore("SEA01", "Seattle", "WA", "206", 98101, 98199),
)
FIRST_NAMES = (
    "James", "Mary", "José", "Zoë", "Renée", "Björn", "François", "Chloé", "Sofía", "Anne-Marie",
    "Aisha", "Wei", "Priya", "Liam", "Olivia", "Mateo", "Emma", "Lukas", "Noah", "Amélie",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "García", "O'Brien", "Núñez", "Schäfer", "Dubois", "Lefèvre", "Peña", "Novák", "Nguyen",
    "Smith", "Johnson", "Williams", "Brown", "Kowalski", "Rossi", "Andersson", "Kim", "Patel", "Okafor",
)  # fmt: skip
STREETS = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Park Ave", "Washington Blvd", "Lake St",
    "Hillside Rd", "Church St", "Broadway", "Market St",
)  # fmt: skip
LANGUAGES = ("en", "en", "en", "en", "es", "de", "fr")
# No email in the CREATE_CUSTOMER example, so that it can be sent again and again without EMAIL_ALREADY_IN_USE.
CREATE_EXAMPLE = (
    '{"profile": {"firstName": "Ada", "lastName": "Lovelace", "phoneMobile": "(212) 555-0199", '
    '"address": {"addressLine1": "12 Byron Ave", "city": "New York", "state": "NY", "postalCode": "10001", '
    '"countryCode": "US"}}, "consents": {"agreeToTC": true, "loyaltySignUp": true}, '
    '"storeAttribution": {"storeId": "NYC01", "associateId": "NYC01-1"}}'
)


def demo_id(number: int) -> str:
    return f"{DEMO_ID_PREFIX}{number:04d}"


def _email_part(name: str) -> str:
    """Email local parts must be ASCII: "Zoë" -> "zoe", "O'Brien" -> "obrien"."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(char for char in ascii_text if char.isalnum() or char == "-")


def _address(rng: random.Random, store: DemoStore, first_name: str, last_name: str) -> dict[str, str]:
    return {
        "first_name": first_name,
        "last_name": last_name,
        "address_line1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "address_line2": f"Apt {rng.randint(1, 30)}{rng.choice('ABCD')}" if rng.random() < 0.3 else "",
        "city": store.city,
        "state": store.state,
        "postal_code": f"{rng.randint(store.first_zip, store.last_zip):05d}",
        "country_code": "US",
    }


def _customer_data(rng: random.Random, number: int) -> dict[str, Any]:
    """Everything about demo customer `number`. Called for every number in order, created or not, so that
    customer N is the same whatever --customers was on this or an earlier run."""
    first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    home_store_index = rng.randrange(len(STORES))
    home = STORES[home_store_index]
    addresses = [_address(rng, home, first_name, last_name)]
    # Most customers have one address; each extra one costs the run a few queries, and the run is on every start.
    extra_addresses = rng.choices((0, 1, 2), weights=(6, 3, 1))[0]
    addresses += [_address(rng, rng.choice(STORES), first_name, last_name) for _ in range(extra_addresses)]
    sms = rng.random() < 0.4
    birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55)) if rng.random() < 0.7 else None
    return {
        "store_index": home_store_index,
        "associate_index": rng.randrange(ASSOCIATES_PER_STORE),
        "fields": {
            "first_name": first_name,
            "last_name": last_name,
            "email": f"{_email_part(first_name)}.{_email_part(last_name)}.{number}@example.com",
            "phone_mobile": f"({home.area_code}) 555-01{rng.randint(0, 99):02d}",
            "birthday": birthday,
            "preferred_language": rng.choice(LANGUAGES),
            "alternate_customer_id": demo_id(number),
            "country": "US",
            "postal_code": addresses[0]["postal_code"],
            "allow_sms_notifications": sms,
        },
        "consents": {
            "agree_to_tc": True,
            "e_receipt": rng.random() < 0.7,
            "news_letter_sign_up": rng.random() < 0.5,
            "sms_sign_up": sms,
            "loyalty_sign_up": rng.random() < ENROLLED_SHARE,
        },
        "profile_address": addresses[0],
        "addresses": addresses[1:],
    }


def _present_or_created(created: int, present: int) -> str:
    if not created:
        return f"already present ({present})"
    return f"{created} created" + (f", {present} already present" if present else "")


class Command(BaseCommand):
    help = (
        "Idempotent demo data: stores, associates, customers (some enrolled), an admin/admin login and a new key "
        'for the "Demo POS" API client, printed with curl examples. Only with DEBUG on, or --force.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Host the server listens on, for the printed URLs.")
        parser.add_argument("--port", default="8000", help="Port the server listens on, for the printed URLs.")
        parser.add_argument("--customers", type=int, default=300, help=f"Demo customers, 1 to {MAX_CUSTOMERS}.")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (creates a known admin password)."
        )
        parser.add_argument(
            "--no-history", action="store_true", help="Customers only, without the twelve weeks of loyalty activity."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates an admin user with the password 'admin' and a demo API key, so it only runs "
                "with DEBUG on. Use --force if you really want demo data on this installation."
            )
        if importlib.util.find_spec("time_machine") is None:
            # Installed by `make seed` and `make run` (requirements-run.txt), not by production's requirements.txt.
            raise CommandError(
                "seed_demo needs time-machine to date the demo history: pip install --require-hashes -r "
                "requirements-run.txt (make install-run)."
            )
        count = options["customers"]
        if not 1 <= count <= MAX_CUSTOMERS:
            raise CommandError(f"--customers must be between 1 and {MAX_CUSTOMERS}.")
        base_url = f"http://{options['host']}:{options['port']}"

        try:
            # One transaction: all-or-nothing, and on SQLite one commit instead of several hundred.
            with transaction.atomic():
                started = time.monotonic()
                now = timezone.now()
                stores_line, contexts = self._seed_stores()
                customers_line = self._seed_customers(count, contexts, now)
                history_line = "skipped (--no-history)" if options["no_history"] else self._seed_history(now)
                cards = self._seed_cards()
                admin_created = self._seed_admin()
                self._seed_role_users()
                client_line, key = self._seed_api_client()
        except ApplicationError as error:
            # NO_DEFAULT_PROGRAM, typically: say what is wrong rather than print a traceback.
            raise CommandError(f"{error.code}: {error.message}") from error

        self._print_summary(stores_line, customers_line, history_line, admin_created, client_line)
        self.stdout.write(f"  (seeded in {time.monotonic() - started:.1f} s)")
        self._print_try_it(base_url, key)
        self._print_try_scan_and_go(base_url, key, cards)

    def _seed_stores(self) -> tuple[str, list[list[ChangeContext]]]:
        """The demo stores and their associates, and for each associate the context its sign-ups are made in."""
        codes = [store.code for store in STORES]
        present = Store.objects.filter(code__in=codes).count()
        contexts = []
        for demo_store in STORES:
            store = store_get_or_create(code=demo_store.code, name=f"{demo_store.city} flagship")
            associates = [
                associate_get_or_create(store=store, code=f"{demo_store.code}-{number}", name=f"Associate {number}")
                for number in range(1, ASSOCIATES_PER_STORE + 1)
            ]
            contexts.append(
                [
                    ChangeContext(channel=ConsentChange.Channel.SYSTEM, store=store, associate=associate)
                    for associate in associates
                ]
            )
        associate_count = Associate.objects.filter(store__code__in=codes).count()
        return f"{_present_or_created(len(codes) - present, present)}, {associate_count} associates", contexts

    def _seed_customers(self, count: int, contexts: list[list[ChangeContext]], now: datetime) -> str:
        from loyalty.management.demo_history import sign_up_travel  # needs time-machine: checked in handle()

        wanted = [demo_id(number) for number in range(1, count + 1)]
        existing = set(
            Customer.objects.filter(alternate_customer_id__in=wanted).values_list("alternate_customer_id", flat=True)
        )
        rng = random.Random(SEED)  # noqa: S311 - demo data, not secrets
        to_create = []
        for number in range(1, count + 1):
            data = _customer_data(rng, number)
            if demo_id(number) not in existing:
                to_create.append({**data, "number": number})
        # Someone may have used one of these addresses by hand; such a demo customer goes without an email.
        emails = [data["fields"]["email"] for data in to_create]
        taken_emails = set(Customer.objects.filter(email__in=emails).values_list("email", flat=True))

        for data in to_create:
            fields = data.pop("fields")
            if fields["email"] in taken_emails:
                fields["email"] = ""
            context = contexts[data.pop("store_index")][data.pop("associate_index")]
            # Each customer signs up (and enrols) on their own day of the last twelve weeks.
            with sign_up_travel(data.pop("number"), now):
                customer_sign_up(fields=fields, context=context, **data)

        demo_customers = Customer.objects.filter(alternate_customer_id__startswith=DEMO_ID_PREFIX)
        enrolled = demo_customers.filter(loyalty_accounts__isnull=False).distinct().count()
        line = _present_or_created(len(to_create), len(existing))
        return f"{line}, {enrolled} of {demo_customers.count()} enrolled in the loyalty program"

    def _seed_history(self, now: datetime) -> str:
        demo_customer_pks = list(
            Customer.objects.filter(alternate_customer_id__startswith=DEMO_ID_PREFIX).values_list("pk", flat=True)
        )
        from loyalty.management.demo_history import demo_history_seed  # needs time-machine: checked in handle()

        summary = demo_history_seed(program=program_get_default(), customer_pks=demo_customer_pks, now=now)
        return "already present" if summary is None else summary.line()

    def _seed_cards(self) -> list[Card]:
        """A physical card for each of the first DEMO_CARDS enrolled demo customers (numbered by their position,
        so a second run finds them), the last one blocked."""
        accounts = (
            LoyaltyAccount.objects.filter(customer__alternate_customer_id__startswith=DEMO_ID_PREFIX)
            .select_related("program")
            .order_by("customer__alternate_customer_id")[:DEMO_CARDS]
        )
        cards = []
        for position, account in enumerate(accounts, start=1):
            number = f"4000 0000 {position:04d}"
            card = Card.objects.filter(account=account, number=number).first()
            if card is None:
                card = card_issue(account=account, number=number)
                if position == DEMO_CARDS:
                    card = card_block(card=card, reason="Demo: a card reported blocked")
            cards.append(card)
        return cards

    def _seed_admin(self) -> bool:
        user_model = get_user_model()
        if user_model.objects.filter(username=ADMIN_USERNAME).exists():
            return False
        # Django's own user model: its manager is the service here, as in `createsuperuser`.
        user_model.objects.create_superuser(username=ADMIN_USERNAME, email="admin@example.com", password=ADMIN_PASSWORD)
        return True

    def _seed_role_users(self) -> None:
        user_model = get_user_model()
        for username, group_name in ROLE_USERS:
            if user_model.objects.filter(username=username).exists():
                continue
            user = user_model.objects.create_user(
                username=username, email=f"{username}@example.com", password=username, is_staff=True
            )
            user.groups.add(Group.objects.get(name=group_name))

    def _seed_api_client(self) -> tuple[str, str]:
        """Keys are stored hashed, so the only key we can print is a new one: the previous demo key stops working."""
        client = ApiClient.objects.filter(name=API_CLIENT_NAME).first()
        if client is None:
            _client, key = api_client_create(name=API_CLIENT_NAME, scopes=API_CLIENT_SCOPES)
            return "created", key
        if sorted(client.scopes) != sorted(API_CLIENT_SCOPES):
            api_client_set_scopes(client=client, scopes=API_CLIENT_SCOPES)
        key = api_client_rotate_key(client=client)
        line = "already present, new key issued"
        if not client.is_active:
            line += " (WARNING: the client is deactivated in the admin, so the key below is refused)"
        return line, key

    def _print_summary(
        self, stores_line: str, customers_line: str, history_line: str, admin_created: bool, client_line: str
    ) -> None:
        # An existing admin keeps its password: checking whether it is still "admin" would cost a PBKDF2 round.
        admin_line = "created" if admin_created else "already present (password left as it was)"
        self.stdout.write("Demo data:")
        self.stdout.write(f"  stores      {stores_line}")
        self.stdout.write(f"  customers   {customers_line}")
        self.stdout.write(f"  history     {history_line}")
        self.stdout.write(f"  admin user  {admin_line}")
        self.stdout.write(f'  API client  "{API_CLIENT_NAME}" {client_line}')

    def _print_try_it(self, base_url: str, key: str) -> None:
        self.stdout.write("")
        self.stdout.write(f"Admin     {base_url}/admin/   login {ADMIN_USERNAME} / {ADMIN_PASSWORD}")
        roles = ", ".join(f"{username} / {username} ({group_name})" for username, group_name in ROLE_USERS)
        self.stdout.write(f"          roles: {roles}")
        self.stdout.write(f"Dashboard {base_url}/admin/dashboard/")
        self.stdout.write(f"API docs  {base_url}/api/docs/")
        self.stdout.write(f"API key   {key}")
        self.stdout.write("")
        self.stdout.write("Try the Clienteling SPI once the server is up:")
        spi = f"{base_url}/endpoint/sa/customers"
        example = self._example_customer()
        if example is not None:
            self.stdout.write(f"  curl '{spi}/{example.public_id}?api_key={key}'")
            self.stdout.write(f"  curl '{spi}?lastName={quote(example.last_name)}&api_key={key}'")
        self.stdout.write(f"  curl -X POST '{spi}?api_key={key}' -H 'Content-Type: application/json' \\")
        self.stdout.write(f"    -d '{CREATE_EXAMPLE}'")

    def _print_try_scan_and_go(self, base_url: str, key: str, cards: list[Card]) -> None:
        """Device vendors send the key as the Basic auth password; any user name will do."""
        if not cards:
            return
        self.stdout.write("")
        self.stdout.write("Try Scan & Go (a device scanning a loyalty card; the last card is blocked):")
        profile = f"{base_url}/customer-profile"
        for card in (cards[0], cards[-1]) if len(cards) > 1 else cards:
            query = f"loyaltyCardNumber={quote(card.number)}&storeId={DEMO_CARD_STORE}&deviceType=smart_cart"
            self.stdout.write(f"  curl -u 'scan-and-go:{key}' '{profile}?{query}'")

    def _example_customer(self) -> Customer | None:
        """The first demo customer, an enrolled one if there is any, so that GET_CUSTOMER shows a loyaltyProfile."""
        demo_customers = Customer.objects.filter(alternate_customer_id__startswith=DEMO_ID_PREFIX).exclude(
            status=Customer.Status.ERASED
        )
        enrolled = demo_customers.filter(loyalty_accounts__isnull=False).order_by("alternate_customer_id").first()
        return enrolled or demo_customers.order_by("alternate_customer_id").first()
