from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.core.jobs import register_job
from sanxiang.core.todo import register_todo_provider
from sanxiang.supervision.alerts import register_alert_rule


class MeasuresConfig(AppConfig):
    name = "sanxiang.measures"
    label = "measures"
    verbose_name = _("Task table of the three systems (三项制度任务)")

    def ready(self):
        from . import selectors, tasks

        # Overdue and returned tasks, tasks waiting for acceptance: on the
        # unit's and the legal office's to-do lists (core/todo.py).
        register_todo_provider(selectors.todo)
        # Overdue tasks as a supervision alert (supervision/alerts.py).
        register_alert_rule("measures.task_overdue", _("Task of the three-systems table overdue"),
                            selectors.overdue_alert_candidates)
        # The platform's evidence check over every open task, each job interval.
        register_job(tasks.JOB, tasks.check_evidence_job)
