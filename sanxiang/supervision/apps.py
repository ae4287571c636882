from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.core.jobs import register_job
from sanxiang.core.todo import register_todo_provider
from sanxiang.statistics.registry import register_figure_source


class SupervisionConfig(AppConfig):
    name = "sanxiang.supervision"
    label = "supervision"
    verbose_name = _("Enforcement supervision (行政执法监督)")

    def ready(self):
        from . import figures, rules, selectors, tasks

        # Complaints to assign and replies due: on the legal office's to-do list (core/todo.py).
        register_todo_provider(selectors.todo)
        # Complaints received per agency: a figure of the cockpit (statistics/registry.py).
        register_figure_source("complaints", _("complaints received"), figures.complaints_received)
        # Alerts open now per responsible agency, and the red ones among them.
        register_figure_source("alerts_open", _("alerts open"), figures.alerts_open)
        register_figure_source("alerts_red", _("red alerts open"), figures.alerts_red)
        # Alerts (预警): the built-in rules over the lower apps (higher apps
        # register theirs through alerts.register_alert_rule), the table's
        # refresh job, and the alerts on the responsible person's and, once
        # escalated, the supervising office's to-do list.
        rules.register_built_in_rules()
        register_job(tasks.JOB, tasks.refresh_alerts_job)
        register_todo_provider(selectors.alert_todo)
        # Supervision instruments: the rectification to report (agency) and the reports to examine (office).
        register_todo_provider(selectors.instrument_todo)
