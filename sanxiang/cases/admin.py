"""The back office over cases, scoped by jurisdiction (selectors.cases_for).

Cases are run through the pages and API (services enforce the rules of
procedure); the admin allows correcting a case's recorded facts. The 审核-8
save-time guard still applies here: a case that needs legal review cannot
get a decision date without a passing review, and the refusal is shown as a
message (review.admin.DecisionGuardMixin)."""

from django.contrib import admin

from sanxiang.core.admin import ScopedAdmin, site
from sanxiang.review.admin import DecisionGuardMixin

from . import selectors
from .models import Case


@admin.register(Case, site=site)
class CaseAdmin(DecisionGuardMixin, ScopedAdmin):
    selector = staticmethod(selectors.cases_for)
    list_display = ("title", "agency", "act_kind", "procedure", "status", "opened_on", "decided_on")
    list_filter = ("act_kind", "procedure", "status")
    search_fields = ("title", "party_name")
    fields = ("title", "agency", "act_kind", "procedure", "status", "opened_on", "party_name", "party_type",
              "party_credit_code", "decided_on", "served_on")
    readonly_fields = ("agency", "act_kind", "procedure", "status", "opened_on")

    def has_add_permission(self, request):
        return False  # cases are opened through the case pages or API (rules of procedure)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.role in {"sysadmin", "agency_head"}
