"""A stand-in back office for the admin-door test: plain Django ModelAdmins
over the cases tables, as an admin for cases would offer them. The cases app
has no admin yet; whatever admin it gets, the save-time guards apply."""

from django.contrib import admin
from django.urls import path

from sanxiang.cases.models import Case, CaseStep

site = admin.AdminSite(name="review_test_admin")


class CaseAdmin(admin.ModelAdmin):
    fields = ["decided_on"]


class CaseStepAdmin(admin.ModelAdmin):
    fields = ["case", "code", "name", "started_at", "status", "officers"]


site.register(Case, CaseAdmin)
site.register(CaseStep, CaseStepAdmin)

urlpatterns = [path("admin/", site.urls)]
