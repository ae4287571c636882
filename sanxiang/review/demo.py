"""Demo data of the review app: the demo agency's head registers the demo
reviewer (审核-2/3, with the legal professional qualification the law asks
of a first-time reviewer) and records a training (审核-4), so the demo's
``reviewer`` login can be assigned a round and give its opinion.

Run by ``sanxiang/demo.py`` after the core demo; loads once (a reviewer
already registered for the account is left as it is)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from sanxiang.core import clock
from sanxiang.core.models import Role, User

from . import services
from .models import Reviewer

REVIEWER_USERNAME = "reviewer"
HEAD_USERNAME = "head"
QUALIFICATION_NUMBER = "A20191301001"  # 法律职业资格证书编号 (demo)
QUALIFICATION_DATE = date(2019, 12, 1)


@transaction.atomic
def load_review_demo() -> Reviewer | None:
    """Register the demo reviewer through the registry service, acting as
    the demo agency's head; None when already registered or when the core
    demo's accounts are absent."""
    user = User.objects.filter(username=REVIEWER_USERNAME, role=Role.LEGAL_REVIEWER).first()
    head = User.objects.filter(username=HEAD_USERNAME, role=Role.AGENCY_HEAD).first()
    if user is None or head is None or head.agency_id != user.agency_id or Reviewer.objects.filter(user=user).exists():
        return None
    reviewer = services.register_reviewer(actor=head, user=user, name=user.display_name or user.username,
                                          qualification_number=QUALIFICATION_NUMBER,
                                          qualification_date=QUALIFICATION_DATE, first_time=True)
    today = clock.today()
    for days_ago, title, hours in ((120, "《中华人民共和国行政处罚法》重点条款解读", "16"),
                                   (30, "重大执法决定法制审核实务与案例研讨", "12")):
        services.record_training(actor=head, reviewer=reviewer, held_on=today - timedelta(days=days_ago), title=title,
                                 hours=hours, provider="石家庄市司法局", method="集中培训")
    return reviewer
