from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import ApplicationError
from webhooks.catalogue import CATALOGUE
from webhooks.models import WebhookEndpoint
from webhooks.services.endpoints import webhook_endpoint_create


class Command(BaseCommand):
    help = (
        "Subscribe a URL to webhook events and print its signing secret (and nothing else) on stdout. "
        "The secret cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url")
        parser.add_argument(
            "--events",
            default="",
            help=f"Comma-separated event types, or * for all: {', '.join(CATALOGUE)}.",
        )
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--payload-format",
            default=WebhookEndpoint.PayloadFormat.STANDARD,
            choices=WebhookEndpoint.PayloadFormat.values,
            help="standard (the Standard Webhooks envelope) or antavo (Antavo's flat body).",
        )

    def handle(self, *args: object, **options: str) -> None:
        event_types = [name for name in options["events"].split(",") if name.strip()]
        if not event_types:
            raise CommandError("Give at least one event type with --events (or * for all).")
        try:
            _endpoint, secret = webhook_endpoint_create(
                url=options["url"],
                event_types=event_types,
                description=options["description"],
                payload_format=options["payload_format"],
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        except ValidationError as error:
            raise CommandError(
                " ".join(f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items())
            ) from error
        self.stdout.write(secret)
