"""The deadline calculator's menu (/deadlines/, issue 11 item 8): the period
rules grouped by the law they come from, each under a short name. The full
description, citation and whether the period rolls to the next working day
are shown with the result (they stay in rules/params/*.yaml); the menu names
only the period.

Every period rule (unit in deadlines.PERIOD_UNITS) is either listed here or
in NOT_IN_CALCULATOR with the reason (core/tests/test_deadline_calculator_menu.py).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sanxiang.rules.loader import all_rules

from .deadlines import PERIOD_UNITS

GROUPS = (
    (_("Administrative penalty"), (
        ("penalty.hearing_request_limit", _("Hearing request period")),
        ("penalty.hearing_notice_limit", _("Hearing notice in advance")),
        ("penalty.preservation_decision_limit", _("Handling preserved evidence")),
        ("penalty.decision_limit", _("Penalty decision period")),
        ("penalty.service_limit", _("Serving the decision")),
        ("penalty.payment_limit", _("Fine payment period")),
        ("penalty.limitation_period", _("Limitation period")),
        ("penalty.limitation_period_extended", _("Limitation period (life, health, finance)")),
    )),
    (_("Administrative coercion"), (
        ("coercion.seizure_limit", _("Seizure period")),
        ("coercion.seizure_extension", _("Seizure extension")),
    )),
    (_("Administrative licensing"), (
        ("licensing.decision_limit", _("Licence decision period")),
        ("licensing.decision_extension", _("Licence decision extension")),
    )),
    (_("Legal review"), (
        ("legal_review.review_limit", _("Review period")),
        ("legal_review.review_extension", _("Review extension")),
    )),
    (_("Publication deadlines"), (
        ("publicity.penalty_publication_limit", _("Publishing a penalty")),
        ("publicity.licence_publication_limit", _("Publishing a licence")),
        ("publicity.other_decision_publication_limit", _("Publishing another decision")),
        ("publicity.penalty_withdrawal_limit", _("Withdrawing a penalty")),
        ("publicity.other_decision_withdrawal_limit", _("Withdrawing another decision")),
        ("publicity.short_publicity_period", _("Publicity period (warning, small fine)")),
        ("publicity.long_publicity_period", _("Publicity period (other penalties)")),
        ("random_inspection.result_publication_limit", _("Publishing inspection results")),
    )),
    (_("Enforcement supervision"), (
        ("supervision.complaint_reply_limit", _("Replying to a complaint")),
        ("evaluation.rectification_limit", _("Rectifying evaluation findings")),
        ("supervision.av_upload_limit", _("Uploading audio-visual records")),
    )),
    (_("Records and evidence"), (
        ("evidence.retention_general", _("Case evidence retention")),
        ("evidence.retention_scene", _("On-site recording retention")),
        ("evidence.retention_interview", _("Inquiry and hearing recording retention")),
        ("evidence.retention_confirmation", _("Notice and service recording retention")),
        ("evidence.retention_major", _("Major case recording retention")),
    )),
)

# Period rules that are not a deadline counted from a day someone picks.
NOT_IN_CALCULATOR = {
    "penalty.minor_age_no_penalty": "an age, not a period from a date",
    "publicity.minor_party_age": "an age, not a period from a date",
    "publicity.annual_report_deadline": "a fixed day of each year (days after 1 January), not a period from an event",
    "security.log_retention": "the platform's own log housekeeping, run by a scheduled job",
    "supervision.repeat_inspection_window": "a warning window of the supervision report, not a deadline",
    "supervision.alert_escalation_working_days": "how long an alert stays red before it reaches the supervisor, not a deadline",
}
# Each alert rule's yellow threshold (supervision/alerts.py): how near a limit
# an alert turns yellow, not a deadline of its own.
NOT_IN_CALCULATOR.update({name: "an alert's yellow threshold ahead of a limit, not a deadline"
                          for name in (r.name for r in all_rules())
                          if name.startswith("supervision.alert.") and name.endswith(".yellow_working_days")})


def menu() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group label, [(rule name, short label)]) for the rules that exist
    today, in the order above."""
    known = {r.name for r in all_rules() if r.unit in PERIOD_UNITS}
    return [(str(group), [(name, str(label)) for name, label in items if name in known])
            for group, items in GROUPS]


def label_of(rule_name: str) -> str:
    for _group, items in GROUPS:
        for name, label in items:
            if name == rule_name:
                return str(label)
    return rule_name
