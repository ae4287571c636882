"""The back office over legal-review tables: read-only and scoped by
jurisdiction (selectors). Every change goes through the services and their
pages, which check who acts and write the audit chain; the save-time guards
(guards.py) protect decisions against any other door (imports, scripts).
The review catalogue is listed with the other catalogues (catalog admin)."""

from django.contrib import admin

from sanxiang.core.admin import ReadOnlyAdmin as ReadOnlyScoped, site

from . import selectors
from .models import Reviewer, Submission


@admin.register(Submission, site=site)
class SubmissionAdmin(ReadOnlyScoped):
    selector = staticmethod(selectors.submissions_for)
    list_display = ("case", "round", "stage", "reviewer", "received_on", "due_on", "outcome")
    list_filter = ("outcome",)


@admin.register(Reviewer, site=site)
class ReviewerAdmin(ReadOnlyScoped):
    selector = staticmethod(selectors.reviewers_for)
    list_display = ("name", "agency", "qualification_number", "qualification_date", "first_time", "active")

