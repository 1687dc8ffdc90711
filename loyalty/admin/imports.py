"""Customer imports in the back office (loyalty/services/customer_import.py): upload a CSV file for a dry run,
watch its progress (the page polls a small JSON status endpoint), read what each row would do, then import the
same file; download every row's outcome or the rejected rows with their reasons.

"add import job" allows uploading and importing (superusers; no role has it); "view import job" the pages.
"""

import itertools
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from core.admin import ViewOnlyMixin
from loyalty.models import ImportJob
from loyalty.services.customer_import import (
    IMPORT_COLUMNS,
    ImportFileError,
    import_job_create,
    import_job_from_dry_run,
    import_job_is_stalled,
    import_job_resume,
    import_report_rows,
)

# Rejected rows shown on the job's page; all of them are in the rejected-rows CSV.
REJECTED_PREVIEW_ROWS = 20
# The largest upload: 100,000 rows of a full profile are about 25 MB.
UPLOAD_MAX_BYTES = 200 * 1024 * 1024


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, comma-separated, the first row naming the columns.")
    is_dry_run = forms.BooleanField(
        label="Dry run first (report what each row would do, write nothing)", required=False, initial=True
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {UPLOAD_MAX_BYTES // (1024 * 1024)} MB.")
        return upload


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_stream(rows: Any, file_name: str) -> StreamingHttpResponse:
    import csv

    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def import_job_status(job: ImportJob) -> dict[str, Any]:
    """What the job page's progress bar polls."""
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "is_dry_run": job.is_dry_run,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "percent": job.percent_done,
        "created": job.created_count,
        "updated": job.updated_count,
        "rejected": job.rejected_count,
        "error": job.error,
        "is_finished": job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED),
    }


def _rejected_preview(job: ImportJob) -> list[tuple[str, str, str]]:
    """The first rejected rows as (line, external id, reason), read from the report as far as needed."""
    if not job.rejected_count:
        return []
    rows = import_report_rows(job, rejected_only=True)
    header = next(rows, None)
    if header is None:
        return []
    external_id_at = header.index("external_id")
    return [(row[0], row[external_id_at], row[1]) for row in itertools.islice(rows, REJECTED_PREVIEW_ROWS)]


@admin.register(ImportJob)
class ImportJobAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "status", "progress", "created_count", "updated_count", "rejected_count", "created_by",
                    "created_at")  # fmt: skip
    list_filter = ("status", "is_dry_run")
    list_select_related = ("created_by",)
    ordering = ("-pk",)
    fields = ("file_name", "is_dry_run", "status", "progress", "error", "created_by", "created_at", "started_at",
              "finished_at")  # fmt: skip
    readonly_fields = ("progress",)
    change_form_template = "admin/loyalty/importjob/change_form.html"
    change_list_template = "admin/loyalty/importjob/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportJob]:
        return super().get_queryset(request).select_related("created_by")

    @admin.display(description="progress")
    def progress(self, job: ImportJob) -> SafeString:
        return format_html(
            '<progress value="{}" max="100"></progress> {} of {} rows ({}%)',
            job.percent_done,
            f"{job.rows_done:,}",
            f"{job.rows_total:,}",
            job.percent_done,
        )

    def may_import(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("loyalty.add_importjob"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="loyalty_importjob_upload"),
            path("<path:object_id>/status/", view(self.status_view), name="loyalty_importjob_status"),
            path("<path:object_id>/report.csv", view(self.report_view), name="loyalty_importjob_report"),
            path("<path:object_id>/rejected.csv", view(self.rejected_view), name="loyalty_importjob_rejected"),
            path("<path:object_id>/import/", view(require_POST(self.import_view)), name="loyalty_importjob_import"),
            path("<path:object_id>/resume/", view(require_POST(self.resume_view)), name="loyalty_importjob_resume"),
            *super().get_urls(),
        ]

    def _job(self, request: HttpRequest, object_id: str) -> ImportJob:
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = self.get_object(request, unquote(object_id))
        if job is None:
            raise Http404
        return job

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = dict(extra_context or {})
        if self.may_import(request):
            extra_context["upload_url"] = reverse("admin:loyalty_importjob_upload")
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        job = self._job(request, object_id)
        extra_context = dict(extra_context or {})
        extra_context.update(
            job=job,
            job_status=import_job_status(job),
            rejected_preview=_rejected_preview(job),
            status_url=reverse("admin:loyalty_importjob_status", args=(job.pk,)),
            report_url=reverse("admin:loyalty_importjob_report", args=(job.pk,)),
            rejected_url=reverse("admin:loyalty_importjob_rejected", args=(job.pk,)),
            import_url=(
                reverse("admin:loyalty_importjob_import", args=(job.pk,))
                if job.is_dry_run and job.stored_file and self.may_import(request)
                else ""
            ),
            resume_url=(
                reverse("admin:loyalty_importjob_resume", args=(job.pk,))
                if import_job_is_stalled(job, now=timezone.now()) and self.may_import(request)
                else ""
            ),
        )
        return super().change_view(request, object_id, form_url, extra_context)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.may_import(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    job = import_job_create(
                        upload=upload, file_name=upload.name, user=request.user,
                        is_dry_run=form.cleaned_data["is_dry_run"],
                    )  # fmt: skip
                except ImportFileError as error:
                    form.add_error("file", str(error))
                else:
                    self.log_addition(request, job, [{"added": {}}])
                    return HttpResponseRedirect(reverse("admin:loyalty_importjob_change", args=(job.pk,)))
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": "Import customers",
            "opts": self.model._meta,
            "form": form,
            "columns": IMPORT_COLUMNS,
        }
        return TemplateResponse(request, "admin/loyalty/importjob/upload.html", context, status=status)

    def status_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        return JsonResponse(import_job_status(self._job(request, object_id)))

    def report_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        job = self._job(request, object_id)
        return _csv_stream(import_report_rows(job, rejected_only=False), f"import-{job.pk}-report.csv")

    def rejected_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        job = self._job(request, object_id)
        return _csv_stream(import_report_rows(job, rejected_only=True), f"import-{job.pk}-rejected.csv")

    def resume_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self._job(request, object_id)
        if not self.may_import(request):
            raise PermissionDenied
        try:
            import_job_resume(job=job)
        except ImportFileError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.log_change(request, job, "Resumed")
            self.message_user(request, "The job was queued again; it goes on after its last committed row.")
        return HttpResponseRedirect(reverse("admin:loyalty_importjob_change", args=(job.pk,)))

    def import_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        dry_run = self._job(request, object_id)
        if not self.may_import(request):
            raise PermissionDenied
        try:
            job = import_job_from_dry_run(dry_run=dry_run, user=request.user)
        except ImportFileError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:loyalty_importjob_change", args=(dry_run.pk,)))
        self.log_addition(request, job, [{"added": {}}])
        return HttpResponseRedirect(reverse("admin:loyalty_importjob_change", args=(job.pk,)))
