from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from sanxiang.cases import registry
from sanxiang.core import backup as core_backup
from sanxiang.core.todo import register_todo_provider
from sanxiang.core.doc_numbers import register_number_holders


class DocumentsConfig(AppConfig):
    name = "sanxiang.documents"
    label = "documents"
    verbose_name = _("documents")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The documents issued in a step, shown on the case page (记录-2/3),
        # through the cases app's registry (docs/decisions/0011).
        from . import selectors

        registry.register_step_documents(selectors.step_documents_for)
        # Decisions to serve on the officers' to-do list (core/todo.py).
        from . import todo

        register_todo_provider(todo.todo_items)

        # One 文号 namespace per agency (issue 11): the numbers this app issued
        # (core.doc_numbers), and the case's numbered 决定书 from which the
        # publicity app derives the decision record (公示-14).
        from . import facts

        register_number_holders(facts.number_holders)
        registry.register_decision_facts(facts.decision_facts)

        # Backups (core/backup.py): issued files checked after a restore.
        from . import backup

        core_backup.register_check("document", backup.document_check)
