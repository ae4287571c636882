"""Reads of 双随机一公开. Public reads (a draw's record, its page) take no
user: what they return is public by law (公示-15) once every participant
has committed; the rest take the acting user."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.catalog.predicates import can_decide_filing
from sanxiang.core import clock
from sanxiang.core.models import Agency, AgencyKind, Region, Role
from sanxiang.core.vocabulary import CASE_HANDLERS
from sanxiang.core.todo import TodoItem
from sanxiang.publicity.redaction import mask_name

from . import predicates
from .services import publication_deadline
from .models import (Draw, DrawParticipant, DrawStatus, Inspection, InspectionBatch, InspectionObject, InspectionPlan,
                     InspectionResult, PlanStatus)

PUBLIC_STATES = (DrawStatus.AWAITING_REVEALS, DrawStatus.DRAWN, DrawStatus.REPLACED)


def public_draws() -> QuerySet[Draw]:
    return (Draw.objects.filter(status__in=PUBLIC_STATES)
            .select_related("batch__plan__agency", "batch__scope_region").order_by("-pk"))


def public_draw(*, pk) -> Draw | None:
    return public_draws().filter(pk=pk).first()


def draw_record(draw: Draw) -> dict:
    """The public record of a draw (docs/random-inspection.md, "The
    record"): everything needed to re-run it with drawv1.py. Before every
    participant committed, nothing of it is public (public_draw says so)."""
    participants = list(draw.participants.select_related("agency").order_by("agency_id"))
    return {
        "algorithm": draw.algorithm,
        "draw": draw.pk,
        "batch": {"id": draw.batch_id, "title": draw.batch.title, "agency": draw.batch.plan.agency.name,
                  "item_code": draw.batch.item_code, "item_name": draw.batch.item_name},
        "status": draw.status,
        "snapshot": draw.snapshot,
        "snapshot_sha256": draw.snapshot_sha256,
        "participants": [{"participant": p.agency_id, "name": p.agency.name} for p in participants],
        "commitments": [{"participant": p.agency_id, "sha256": p.commitment} for p in participants],
        "reveals": [{"participant": p.agency_id, "secret": p.secret} for p in participants if p.secret],
        "public_value_note": draw.public_value_note,
        "public_value": draw.public_value,
        "ratios": draw.ratios,
        "k": draw.k,
        "limit": draw.limit,
        "conflicts": draw.conflicts,
        "seed": draw.seed,
        "result": draw.result if draw.status != DrawStatus.AWAITING_REVEALS else [],
        "replaces": draw.replaces_id,
        "redraw_reason": draw.redraw_reason,
    }


def public_object_names(ids) -> dict[str, str]:
    """Directory number → the name the public sees: a unit's name, a
    natural person's masked (公示 rules: no private person's full name)."""
    rows = InspectionObject.objects.filter(pk__in=[int(i) for i in ids if str(i).isdigit()]).only(
        "pk", "name", "natural_person")
    return {str(o.pk): public_name(o) for o in rows}


# --- the back office (双随机抽查 in the navigation) ----------------------------------


def waiting_draws_for(*, user) -> list[DrawParticipant]:
    """The draws waiting for this person's agency's commitment or secret."""
    return list(DrawParticipant.objects.filter(agency_id=user.agency_id)
                .filter(Q(draw__status=DrawStatus.AWAITING_COMMITMENTS, commitment="")
                        | Q(draw__status=DrawStatus.AWAITING_REVEALS, secret=""))
                .select_related("draw__batch__plan__agency", "agency").order_by("draw_id"))


def plans_to_file_for(*, user) -> list[InspectionPlan]:
    """The submitted plans whose filing this legal-office supervisor
    decides (the catalogue's filing rule); nothing for anyone else."""
    if user.role != Role.LEGAL_SUPERVISOR or not user.region_id:
        return []
    rows = (InspectionPlan.objects.filter(status=PlanStatus.SUBMITTED, agency__region__path__startswith=user.region.path)
            .select_related("agency__region"))
    return [p for p in rows if can_decide_filing(user, p.agency)]


def office_for(*, user) -> dict:
    """What the person has to do with random inspections: the agency's
    plans with their batches and draws (organisers), the plans waiting for
    this legal office's filing decision (supervisors), the draws waiting
    for this person's agency's commitment or secret, the inspections to
    carry out and the results recorded."""
    agency_id = getattr(user, "agency_id", None)
    if not agency_id:
        raise PermissionDenied
    plans = []
    organiser = bool(predicates.can_organise_inspections(user, user.agency))
    if organiser:
        plans = list(InspectionPlan.objects.filter(agency_id=agency_id)
                     .prefetch_related("batches__draws", "batches__joint_agencies").order_by("-year", "-pk")[:20])
    return {"organiser": organiser, "plans": plans, "filing": plans_to_file_for(user=user),
            "waiting": waiting_draws_for(user=user), "tasks": list(open_tasks_for(user=user)),
            "done": list(recorded_for(user=user)[:20])}


def get_plan_for(*, user, pk) -> InspectionPlan:
    """A plan the person organises or whose filing they decide."""
    plan = InspectionPlan.objects.select_related("agency__region").filter(pk=pk).first()
    if plan is None or not (predicates.can_organise_inspections(user, plan.agency) or can_decide_filing(user, plan.agency)):
        raise PermissionDenied
    return plan


def get_batch_for(*, user, pk) -> InspectionBatch:
    batch = InspectionBatch.objects.select_related("plan__agency").filter(pk=pk).first()
    if batch is None or not predicates.can_organise_inspections(user, batch.plan.agency):
        raise PermissionDenied
    return batch


def get_draw_for(*, user, pk) -> Draw:
    """A draw of the person's agency, or one it takes part in."""
    draw = Draw.objects.select_related("batch__plan__agency").filter(pk=pk).first()
    if draw is None or not (draw.batch.plan.agency_id == getattr(user, "agency_id", None)
                            or draw.participants.filter(agency_id=getattr(user, "agency_id", None)).exists()):
        raise PermissionDenied
    return draw


def todo(*, user, today):
    """To-do items (core/todo.py): a commitment or a secret this person's
    agency owes a draw; a plan waiting for this legal office's filing; an
    inspection to carry out (its inspectors, the head); a result not public
    by its latest day (the publicity managers: 公示-15)."""
    if not getattr(user, "agency_id", None):
        return []
    url = reverse("inspections:office")
    items = []
    # Only what the to-do list shows is read: it runs on every page (the
    # navigation's count), not the whole 双随机抽查 page (office_for).
    if user.role in predicates.PARTICIPANT_ROLES:
        items += [TodoItem(kind="inspection_commitment" if p.draw.status == DrawStatus.AWAITING_COMMITMENTS else "inspection_reveal",
                           label=_("Random inspection draw"),
                           title=(_("Give the commitment for %(batch)s") if p.draw.status == DrawStatus.AWAITING_COMMITMENTS
                                  else _("Reveal the secret for %(batch)s")) % {"batch": p.draw.batch.title}, url=url)
                  for p in waiting_draws_for(user=user)]
        items += [TodoItem(kind="inspection_plan_filing", label=_("Inspection plan filing"),
                           title=_("%(agency)s: %(plan)s waits for filing") % {"agency": p.agency.name, "plan": p.title},
                           url=url) for p in plans_to_file_for(user=user)]
    if user.role in CASE_HANDLERS:
        items += [TodoItem(kind="inspection_task", label=_("Random inspection"),
                           title=_("Inspect %(object)s (%(item)s)") % {"object": public_name(i.object),
                                                                       "item": i.draw.batch.item_name},
                           url=url, due=i.draw.batch.ends_on) for i in open_tasks_for(user=user)[:50]]
    if user.role in predicates.ORGANISERS:
        items += [TodoItem(kind="inspection_result_overdue", label=_("Inspection result overdue"),
                           title=_("The result of the inspection of %(object)s is not public") % {"object": public_name(i.object)},
                           url=url, due=result_due(i)) for i in overdue_results(user=user, today=today)]
    return items


def batch_choices(*, user) -> dict:
    """For an organiser's batch form: the regions of its agency's territory
    and the agencies of the same region it may inspect jointly with."""
    agency = user.agency
    return {
        "regions": Region.objects.filter(path__startswith=agency.region.path).order_by("path"),
        "joint_choices": Agency.objects.filter(region=agency.region, is_active=True)
        .exclude(pk=agency.pk).exclude(kind=AgencyKind.LEGAL_OFFICE).order_by("name"),
    }


def agencies_by_id(ids) -> list[Agency]:
    """The agencies of these ids that exist (a batch form's joint agencies;
    the service decides which of them may inspect jointly)."""
    return list(Agency.objects.filter(pk__in=list(ids)))


# --- inspections and their public results ---------------------------------------------


def _inspections():
    return Inspection.objects.select_related("object", "agency", "draw__batch", "case", "referred_case")


def open_tasks_for(*, user) -> QuerySet[Inspection]:
    """Inspections without a result that this person's agency carries out:
    all of them for its head and publicity managers; an officer's own."""
    agency_id = getattr(user, "agency_id", None)
    if not agency_id:
        return Inspection.objects.none()
    rows = _inspections().filter(agency_id=agency_id, result="")
    if user.role == Role.OFFICER:
        rows = rows.filter(officers__user=user)
    return rows.order_by("draw__batch__ends_on", "pk")


def recorded_for(*, user) -> QuerySet[Inspection]:
    agency_id = getattr(user, "agency_id", None)
    if not agency_id:
        return Inspection.objects.none()
    return _inspections().filter(agency_id=agency_id).exclude(result="").order_by("-published_at")


def get_inspection_for(*, user, pk) -> Inspection:
    inspection = _inspections().filter(pk=pk, agency_id=getattr(user, "agency_id", None)).first()
    if inspection is None:
        raise PermissionDenied
    return inspection


def result_due(inspection: Inspection, *, oracle=None):
    """When the result must be public at the latest: the dated limit counted
    from the inspection day once recorded, else from the batch's last day;
    None where the limit has no value for the agency's region
    (services.publication_deadline)."""
    if inspection.publication_due:
        return inspection.publication_due
    due = publication_deadline(start=inspection.draw.batch.ends_on, agency=inspection.agency)
    return due.date if due else None


def overdue_results(*, user, today) -> list[Inspection]:
    """Inspections of the person's agency whose result is not public and
    whose latest day for it has passed (the publicity to-do list)."""
    agency_id = getattr(user, "agency_id", None)
    if not agency_id:
        return []
    rows = _inspections().filter(agency_id=agency_id, published_at__isnull=True, draw__batch__ends_on__lt=today)
    return [i for i in rows if (due := result_due(i)) is not None and due < today]


def public_results(*, q: str = "", agency_id=None) -> QuerySet[Inspection]:
    rows = _inspections().filter(published_at__isnull=False)
    if agency_id:
        rows = rows.filter(agency_id=agency_id)
    if q:
        rows = rows.filter(Q(object__name__icontains=q) | Q(draw__batch__item_name__icontains=q))
    return rows.order_by("-published_at", "-pk")


def published_result_labels(draw: Draw) -> dict[str, str]:
    """Directory number → the published result of that object's
    inspection in this draw, as the draw's public page shows it."""
    return {str(i.object_id): str(i.get_result_display())
            for i in draw.inspections.filter(published_at__isnull=False).only("object_id", "result")}


def public_name(obj: InspectionObject) -> str:
    return mask_name(obj.name) if obj.natural_person else obj.name


def public_result(inspection: Inspection) -> dict:
    """What the portal and the public API show of a result (公示-15)."""
    return {"id": inspection.pk, "object": public_name(inspection.object), "agency": inspection.agency.name,
            "item": inspection.draw.batch.item_name, "batch": inspection.draw.batch.title, "draw": inspection.draw_id,
            "inspected_on": inspection.inspected_on, "result": inspection.result,
            "result_label": str(inspection.get_result_display()), "note": inspection.public_note,
            "published_at": inspection.published_at}



# --- figures (issue 14 item 6) -----------------------------------------------------------


def figure_agencies(*, user) -> QuerySet[Agency]:
    """Whose figures the person sees: an organiser its agency's; a legal
    office's supervisor every agency of its region; the administrator all."""
    if not getattr(user, "is_authenticated", False):
        return Agency.objects.none()
    if user.role == Role.SYSADMIN or user.is_superuser:
        return Agency.objects.all()
    if user.role == Role.LEGAL_SUPERVISOR and user.region_id:
        return Agency.objects.filter(region__path__startswith=user.region.path)
    if user.role in predicates.ORGANISERS and user.agency_id:
        return Agency.objects.filter(pk=user.agency_id)
    return Agency.objects.none()


def figures_for(*, user, year: int) -> list[dict]:
    """Per agency, batch (inspection item) and credit-risk tier of the
    year's filed plans: the planned ratio; the objects in scope, drawn and
    inspected, with the ratios drawn/in scope and inspected/in scope;
    problems found, cases opened; results published and published by their
    due date (公示-15). One row per tier and a total row per batch."""
    batches = (InspectionBatch.objects.filter(plan__year=year, plan__status=PlanStatus.FILED,
                                              plan__agency__in=figure_agencies(user=user))
               .select_related("plan__agency").order_by("plan__agency__name", "starts_on", "pk"))
    draws = {d.batch_id: d for d in Draw.objects.filter(batch__in=batches, status=DrawStatus.DRAWN)}
    inspections: dict[int, list[Inspection]] = {}
    for i in Inspection.objects.filter(draw__in=draws.values()).only(
            "draw_id", "object_id", "result", "published_at", "publication_due"):
        inspections.setdefault(i.draw_id, []).append(i)
    rows = []
    for batch in batches:
        draw = draws.get(batch.pk)
        strata = {}
        if draw is not None:
            for obj in draw.snapshot["objects"]:
                strata.setdefault(obj["stratum"], set()).add(obj["id"])
        tiers = sorted(set(strata) | set(batch.ratios))
        total = _figure(batch, "", 0, [], [], "")
        for tier in tiers:
            ids = strata.get(tier, set())
            drawn = [r["object"] for r in (draw.result if draw else []) if r["object"] in ids]
            done = [i for i in inspections.get(draw.pk if draw else 0, []) if str(i.object_id) in ids]
            row = _figure(batch, tier, len(ids), drawn, done, batch.ratios.get(tier, "0"))
            rows.append(row)
            for key in ("population", "drawn", "inspected", "problems", "cases", "published", "on_time"):
                total[key] += row[key]
        total.update(_ratios(total))
        total["drawn_at"] = draw.drawn_at if draw else None
        rows.append(total)
    return rows


def _figure(batch, tier: str, population: int, drawn: list, done: list, planned: str) -> dict:
    recorded = [i for i in done if i.result]
    published = [i for i in recorded if i.published_at]
    row = {"agency": batch.plan.agency.name, "batch": batch.title, "item": f"{batch.item_code} {batch.item_name}",
           "tier": tier, "planned": planned, "population": population, "drawn": len(drawn),
           "inspected": len(recorded),
           "problems": sum(1 for i in recorded if i.result in (InspectionResult.CORRECTED, InspectionResult.REFERRED)),
           "cases": sum(1 for i in recorded if i.result == InspectionResult.REFERRED),
           "published": len(published),
           "on_time": sum(1 for i in published if i.publication_due and clock.local_date(i.published_at) <= i.publication_due)}
    row.update(_ratios(row))
    return row


def _ratios(row: dict) -> dict:
    def share(part, whole):
        return f"{part / whole:.1%}" if whole else "—"

    return {"drawn_ratio": share(row["drawn"], row["population"]),
            "inspected_ratio": share(row["inspected"], row["population"]),
            "on_time_ratio": share(row["on_time"], row["published"])}

# --- the directory of inspection objects (检查对象名录库) --------------------------------

from django.http import Http404  # noqa: E402

from sanxiang.core.models import Officer, OfficerStatus  # noqa: E402

from .services import _id_hash  # noqa: E402  (services never imports selectors)


def can_read_directory(user) -> bool:
    """The directory is the platform's, read by the people of its agencies
    (an officer declares their own 回避 from it) and their API clients."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and getattr(user, "agency_id", None))


def directory_for(*, user, q: str = "", region: str = "", tier: str = "") -> QuerySet[InspectionObject]:
    """The directory's objects, searched by name, credit code or legal
    representative (a full ID number finds its person by the number's key,
    never by the number itself), within a region's subtree and a tier."""
    if not can_read_directory(user):
        raise PermissionDenied
    rows = InspectionObject.objects.select_related("region").order_by("name", "pk")
    text = (q or "").strip()[:100]
    if text:
        number = text.upper()
        if len(number) == 18 and number[:17].isdigit():
            rows = rows.filter(Q(id_hash=_id_hash(number)) | Q(credit_code=number))
        else:
            rows = rows.filter(Q(name__icontains=text) | Q(credit_code__startswith=text.upper())
                               | Q(legal_representative__icontains=text))
    code = (region or "").strip()[:12]
    if code:
        place = Region.objects.filter(code=code).only("path").first()
        rows = rows.filter(region__path__startswith=place.path) if place else rows.none()
    if tier:
        rows = rows.filter(risk_tier=tier) if tier in ("A", "B", "C", "D") else rows.none()
    return rows


def get_object_for(*, user, pk) -> InspectionObject:
    if not can_read_directory(user):
        raise PermissionDenied
    obj = InspectionObject.objects.select_related("region").filter(pk=pk).first()
    if obj is None:
        raise Http404("no such inspection object")
    return obj


def conflict_officers_for(*, user):
    """The officers for whom this person may declare a 回避: every officer
    of the agency for its organisers, else the person's own officer record."""
    if not can_read_directory(user):
        return Officer.objects.none()
    if predicates.can_organise_inspections(user, user.agency):
        return Officer.objects.filter(agency_id=user.agency_id, status=OfficerStatus.ACTIVE).order_by("name")
    return Officer.objects.filter(user_id=user.pk)


def directory_regions(*, user):
    """The regions a directory page filters by and adds objects in."""
    return Region.objects.order_by("path")
