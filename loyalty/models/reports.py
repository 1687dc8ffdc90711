"""Permissions for back-office reports that have no model of their own."""

from crm.models import Customer
from loyalty.models.programs import Program


class PointsLiability(Program):
    """The points liability report (loyalty/admin/liability.py) reads programs and their ledger; this proxy exists
    only for its permission, `loyalty.view_pointsliability`, which the Marketing and Finance roles hold."""

    class Meta:
        proxy = True
        default_permissions = ("view",)
        verbose_name = "points liability report"
        verbose_name_plural = "points liability reports"


class CustomerDataExport(Customer):
    """The subject-access export of one customer (loyalty/admin/subject_access.py): everything held about them.
    This proxy exists only for its permission, `loyalty.view_customerdataexport` (the Store managers role holds
    it); every export is recorded in the log with who exported whom."""

    class Meta:
        proxy = True
        default_permissions = ("view",)
        verbose_name = "customer data export"
        verbose_name_plural = "customer data exports"
