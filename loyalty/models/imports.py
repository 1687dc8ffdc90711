"""Customer imports from another CRM (loyalty/services/customer_import.py): one ImportJob per uploaded file and run.

A dry run reads every row and reports what would happen without keeping anything; a real run writes through the
services, one savepoint per row, a chunk of rows per transaction. The job's counters and `rows_done` are committed
with each chunk's rows, so progress is exact and a run that stops resumes after the last committed row.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class ImportJob(TimeStampedModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    is_dry_run = models.BooleanField(default=True, help_text="Report what each row would do; write nothing.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    file_name = models.CharField(
        max_length=255, help_text="The uploaded file's name, as it was on the uploader's disk."
    )
    # Paths relative to MEDIA_ROOT, where the worker reads them. The upload is deleted when a real run finishes.
    stored_file = models.CharField(max_length=255, blank=True)
    report_file = models.CharField(max_length=255, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the whole job failed (a row's rejection is in the report).")
    dry_run_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The dry run this import was started from.",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(rows_done__lte=models.F("rows_total")), name="import_job_rows_done_lte_total"
            ),
        ]

    def __str__(self) -> str:
        kind = "Dry run" if self.is_dry_run else "Import"
        return f"{kind} #{self.pk} of {self.file_name}"

    @property
    def percent_done(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return 0 if not self.rows_total else min(100, self.rows_done * 100 // self.rows_total)
