from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "sanxiang.review"
    label = "review"
    verbose_name = _("Legal review of major decisions")

    def ready(self):
        # The last line of defence of 审核-8: a decision recorded through any
        # door that bypasses the services (admin forms, imports, scripts) is
        # refused at save time. See guards.py and docs/review.md.
        from . import guards

        guards.connect()
