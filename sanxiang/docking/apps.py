from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.catalog.registry import register_version_accepted
from sanxiang.core.changes import register_officer_changed, register_officer_source
from sanxiang.core.jobs import register_job
from sanxiang.core.todo import register_todo_provider
from sanxiang.publicity.registry import register_public_changed
from sanxiang.statistics.registry import register_report_published


class DockingConfig(AppConfig):
    name = "sanxiang.docking"
    label = "docking"
    verbose_name = _("Docking between platforms")

    def ready(self):
        from . import annual, catalogue, decisions, officers, registry, selectors, tasks

        # The delivery pass as a scheduled job (its lock keeps one sender at
        # a time; tasks.py wakes it sooner when messages come due).
        register_job(tasks.JOB, tasks.deliver_outbox_job)
        # The daily reconciliation with the platform above (reconcile.py).
        register_job(tasks.RECONCILE_JOB, tasks.reconcile_job)
        # What travels (docs/docking.md "Schemas"): the public officer list
        # and the decisions as published, corrected and withdrawn.
        registry.register_object_type(officers.OFFICERS)
        register_officer_changed(officers.on_officer_changed)
        register_officer_source(officers.reported_by)  # the 亮证 page names the reporting platform
        registry.register_object_type(decisions.DECISIONS)
        register_public_changed(decisions.on_public_changed)
        # Accepted catalogue versions of the four public lists.
        registry.register_object_type(catalogue.CATALOGUE_VERSIONS)
        register_version_accepted(catalogue.on_version_accepted)
        # The annual statistics report (issue 16) when it is published.
        registry.register_object_type(annual.ANNUAL_REPORTS)
        register_report_published(annual.on_report_published)
        # 410 from the platform above, undeliverable messages: the system
        # administrator's to-do list points at the docking page.
        register_todo_provider(selectors.docking_todo)
        # Supervision: a lower platform not reconciled for two days, or left
        # with differences (system administrators, the platform's legal office).
        register_todo_provider(selectors.supervision_todo)
