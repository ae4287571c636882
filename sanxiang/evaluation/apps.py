from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.core.todo import register_todo_provider
from sanxiang.supervision.alerts import register_alert_rule


class EvaluationConfig(AppConfig):
    name = "sanxiang.evaluation"
    label = "evaluation"
    verbose_name = _("Case-file evaluation (案卷评查)")

    def ready(self):
        from . import alerts, selectors

        # Cases to score (evaluators), findings to rectify (agencies), responses
        # to accept (the legal office): on each one's to-do list (core/todo.py).
        register_todo_provider(selectors.todo)
        # Findings not rectified by their deadline: an alert (supervision/alerts.py).
        register_alert_rule(alerts.CODE, _("Evaluation findings not rectified"), alerts.rectification_candidates)
