from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.core.calendar_hooks import register_provisional_recompute
from sanxiang.core.todo import register_todo_provider


class CasesConfig(AppConfig):
    name = "sanxiang.cases"
    label = "cases"
    verbose_name = _("Cases and their procedure")

    def ready(self):
        # Loading a year's holiday schedule recomputes the case deadlines
        # that were provisional (core.calendar registry; core imports no app).
        from . import services

        register_provisional_recompute(services.recompute_provisional_deadlines)

        # The officers' next steps and deadlines, the heads' approvals, the
        # legal offices' overdue deadlines on the to-do list (core/todo.py).
        from . import todo

        register_todo_provider(todo.todo_items)
