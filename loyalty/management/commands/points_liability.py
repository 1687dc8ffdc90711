"""`manage.py points_liability [--as-of YYYY-MM-DD] [--program CODE] [--format table|csv]`: the points liability
report for month-end, the same figures and rows as the back-office page's CSV (loyalty/admin/liability.py)."""

import csv
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from loyalty.admin.liability import CSV_HEADER, breakage_percent, liability_csv_rows
from loyalty.models import Program
from loyalty.selectors.liability import BREAKAGE_FORMULA, points_liability


class Command(BaseCommand):
    help = "Print the points liability (outstanding points and their value, by month of issue and expiry)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="The day to report at the end of (UTC), YYYY-MM-DD; default today.")
        parser.add_argument("--program", help="The program's code; default the default program.")
        parser.add_argument("--format", choices=("table", "csv"), default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.now().date()
        try:
            as_of = date.fromisoformat(options["as_of"]) if options["as_of"] else today
        except ValueError as error:
            raise CommandError(f"--as-of: not a date in the form YYYY-MM-DD: {options['as_of']!r}") from error
        if as_of > today:
            raise CommandError("--as-of: the report cannot look into the future.")
        programs = Program.objects.all()
        program = (
            programs.filter(code=options["program"]).first()
            if options["program"]
            else programs.filter(is_default=True).first()
        )
        if program is None:
            raise CommandError(f"No program {options['program']!r}." if options["program"] else "No default program.")
        report = points_liability(program=program, as_of=as_of)
        rows = list(liability_csv_rows(report))
        if options["format"] == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(CSV_HEADER)
            writer.writerows(rows)
            return
        self.stdout.write(
            f"Points liability of {program.name} ({program.code}) at the end of {as_of.isoformat()} (UTC), "
            f"burn value {report.burn_value} {program.currency} a point\n"
        )
        widths = [max(len(str(value)) for value in column) for column in zip(CSV_HEADER, *rows, strict=True)]
        for row in (CSV_HEADER, *rows):
            self.stdout.write("  ".join(str(value).rjust(width) for value, width in zip(row, widths, strict=True)))
        percent = breakage_percent(report)
        self.stdout.write(
            f"\nBreakage rate: {percent + ' %' if percent else 'no history'} = {BREAKAGE_FORMULA} "
            f"({report.breakage.expired if report.breakage else 0} expired, "
            f"{report.breakage.redeemed if report.breakage else 0} redeemed)"
        )
