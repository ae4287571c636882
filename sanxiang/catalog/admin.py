"""The catalogues in the back office: read-only and scoped by jurisdiction.

Catalogues change only through the filing workflow (import, submit, accept,
return) on the catalogue pages, so every change is audited once, in
services.py; the admin lists what exists.
"""

from django.contrib import admin

from sanxiang.core.admin import ReadOnlyAdmin as ReadOnlyScopedAdmin, site

from . import selectors
from .models import CatalogueKind, CatalogueVersion, ImportAttempt


@admin.register(CatalogueVersion, site=site)
class CatalogueVersionAdmin(ReadOnlyScopedAdmin):
    list_display = ("agency", "kind", "number", "status", "effective_date", "submitted_at", "decided_at")
    list_filter = ("kind", "status")
    search_fields = ("agency__name",)

    def get_queryset(self, request):
        return selectors.versions_for(user=request.user, kinds=CatalogueKind.values)


@admin.register(ImportAttempt, site=site)
class ImportAttemptAdmin(ReadOnlyScopedAdmin):
    list_display = ("version", "at", "actor", "filename", "rows", "ok")
    list_filter = ("ok",)

    def get_queryset(self, request):
        return ImportAttempt.objects.select_related("version", "version__agency").filter(
            version__in=selectors.versions_for(user=request.user))
