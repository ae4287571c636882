from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.core.todo import register_todo_provider


class SupervisionConfig(AppConfig):
    name = "sanxiang.supervision"
    label = "supervision"
    verbose_name = _("Enforcement supervision (行政执法监督)")

    def ready(self):
        from . import selectors

        # Complaints to assign and replies due: on the legal office's to-do list (core/todo.py).
        register_todo_provider(selectors.todo)
