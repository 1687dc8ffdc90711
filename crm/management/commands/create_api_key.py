from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import ApplicationError
from crm.services.api_clients import api_client_create


class Command(BaseCommand):
    help = "Create an API client and print its key (and nothing else) on stdout. The key cannot be shown again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--scopes",
            default="",
            help="Comma-separated: clienteling, scan_and_go, loyalty:read, loyalty:write, privacy.",
        )
        parser.add_argument(
            "--stores",
            default="",
            help=(
                "Comma-separated store codes the key may act for, and must name on writes that record a store. "
                "Each must be a store already known (add new ones under Stores in the admin). Default: any store."
            ),
        )

    def handle(self, *args: object, **options: str) -> None:
        scopes = [scope for scope in options["scopes"].split(",") if scope.strip()]
        if not scopes:
            raise CommandError("Give at least one scope with --scopes.")
        try:
            _client, key = api_client_create(
                name=options["name"], scopes=scopes, store_codes=options["stores"].split(",")
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(key)
