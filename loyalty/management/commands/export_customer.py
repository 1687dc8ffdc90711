"""`manage.py export_customer ID`: the subject-access export of one customer (its public id, e.g. C0001ABC, or its
number) as JSON on stdout, as the back office's "Export personal data" downloads it. Logged as an export."""

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.models import Customer
from loyalty.admin.subject_access import subject_access_json
from loyalty.selectors.subject_access import customer_subject_access_data

logger = logging.getLogger("loyalty.admin.subject_access")


class Command(BaseCommand):
    help = "Print everything held about one customer as JSON (a subject-access request)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("customer_id", help="The customer's public id, or its number.")

    def handle(self, *args: Any, **options: Any) -> None:
        given = options["customer_id"].strip()
        customers = Customer.objects.filter(public_id=given.upper())
        if given.isdigit():
            customers = customers | Customer.objects.filter(pk=int(given))
        customer = customers.first()
        if customer is None:
            raise CommandError(f"No customer {given!r}.")
        data = customer_subject_access_data(customer=customer)
        logger.info("subject access export of customer %s by manage.py export_customer", customer.public_id)
        self.stdout.write(subject_access_json(data))
