"""The back office over cases, scoped by jurisdiction (selectors.cases_for):
read-only. Cases change only through the case pages and API, whose services
enforce the rules of procedure, check who acts and write the audit chain; no
service sets a decision date or any other recorded fact by hand, so the
admin offers no change (core.admin.BackOfficeAdmin)."""

from django.contrib import admin

from sanxiang.core.admin import ReadOnlyAdmin, site

from . import selectors
from .models import Case


@admin.register(Case, site=site)
class CaseAdmin(ReadOnlyAdmin):
    selector = staticmethod(selectors.cases_for)
    list_display = ("title", "agency", "act_kind", "procedure", "status", "opened_on", "decided_on")
    list_filter = ("act_kind", "procedure", "status")
    search_fields = ("title", "party_name")
    fields = ("title", "agency", "act_kind", "procedure", "status", "opened_on", "party_name", "party_type",
              "party_credit_code", "decided_on", "served_on")
