from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.core.todo import register_todo_provider


class InspectionsConfig(AppConfig):
    name = "sanxiang.inspections"
    label = "inspections"
    verbose_name = _("Random inspections (双随机一公开)")

    def ready(self):
        from . import selectors

        # A commitment or secret owed to a draw, a plan waiting for filing:
        # on the 工作台's to-do list (core/todo.py).
        register_todo_provider(selectors.todo)
