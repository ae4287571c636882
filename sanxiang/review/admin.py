"""The back office over legal-review tables: read-only and scoped by
jurisdiction (selectors). Every change goes through the services and their
pages, which check who acts and write the audit chain; the save-time guards
(guards.py) protect decisions whatever admin the cases app gets."""

from django.contrib import admin

from sanxiang.core.admin import ReadOnlyAdmin as ReadOnlyScoped, site

from . import selectors
from .models import ReviewCatalogueVersion, Reviewer, Submission


@admin.register(Submission, site=site)
class SubmissionAdmin(ReadOnlyScoped):
    selector = staticmethod(selectors.submissions_for)
    list_display = ("case", "round", "stage", "reviewer", "received_on", "due_on", "outcome")
    list_filter = ("outcome",)


@admin.register(Reviewer, site=site)
class ReviewerAdmin(ReadOnlyScoped):
    selector = staticmethod(selectors.reviewers_for)
    list_display = ("name", "agency", "qualification_number", "qualification_date", "first_time", "active")


@admin.register(ReviewCatalogueVersion, site=site)
class CatalogueVersionAdmin(ReadOnlyScoped):
    selector = staticmethod(selectors.catalogue_versions_for)
    list_display = ("agency", "number", "status", "effective_date", "all_non_summary")


class DecisionGuardMixin:
    """For an admin over cases or documents: show the 审核-8 refusal of the
    save-time guard as a message on the form instead of a server error."""

    def changeform_view(self, request, *args, **kwargs):
        from django.contrib import messages
        from django.core.exceptions import ValidationError
        from django.http import HttpResponseRedirect

        try:
            return super().changeform_view(request, *args, **kwargs)
        except ValidationError as exc:
            codes = {e.code for errors in getattr(exc, "error_dict", {}).values() for e in errors}
            if "review_required" not in codes:
                raise
            self.message_user(request, "；".join(exc.messages), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
