"""Evidence tables in the back office: read-only lists. Changes go through
the services (every one audited), not through admin forms."""

from django.contrib import admin

from sanxiang.core.admin import BackOfficeAdmin, site

from .models import FixityAlert, RetentionCategory


class ReadOnlyAdmin(BackOfficeAdmin):
    """Read-only (the base's default), for system administrators."""

    def get_queryset(self, request):
        return self.model._default_manager.all()

    def has_view_permission(self, request, obj=None):
        return bool(request.user.is_superuser or getattr(request.user, "role", "") == "sysadmin")

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(RetentionCategory, site=site)
class RetentionCategoryAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "rule", "is_default", "source")


@admin.register(FixityAlert, site=site)
class FixityAlertAdmin(ReadOnlyAdmin):
    list_display = ("detected_at", "sha256", "problem", "actual_sha256", "resolved_at")
