"""`manage.py import_customers FILE [--dry-run] [--report PATH]`: the back office's customer import, run here and
now (no worker needed): the same columns, services and per-row outcomes (loyalty/services/customer_import.py)."""

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.models import ImportJob
from loyalty.services.customer_import import (
    ImportFileError,
    import_job_create,
    import_job_run,
    import_report_rows,
)


class Command(BaseCommand):
    help = "Import customers from a CSV file (header row first; see docs/finance-and-migration.md for the columns)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Report what each row would do; write nothing.")
        parser.add_argument(
            "--report", type=Path, help="Write every row's outcome here (CSV); default: rejected rows on stdout."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        try:
            with path.open("rb") as source:
                job = import_job_create(
                    upload=source, file_name=path.name, user=None, is_dry_run=options["dry_run"], enqueue=False
                )
        except ImportFileError as error:
            raise CommandError(str(error)) from error
        import_job_run(job_pk=job.pk)
        job.refresh_from_db()
        if options["report"]:
            with options["report"].open("w", newline="", encoding="utf-8") as report:
                csv.writer(report).writerows(import_report_rows(job, rejected_only=False))
        elif job.rejected_count:
            csv.writer(self.stdout, lineterminator="\n").writerows(import_report_rows(job, rejected_only=True))
        verb = "would be" if job.is_dry_run else "were"
        summary = (
            f"{job}: {job.rows_done} rows, {job.created_count} customers {verb} created, {job.updated_count} "
            f"updated, {job.rejected_count} rows rejected."
        )
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"{summary} The import failed: {job.error}")
        self.stdout.write(summary)
