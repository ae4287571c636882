"""Demo of docking for a first login as the system administrator: the
province has 正定县's own platform on its trust list and has received its
messages — officer changes applied, one officer of another county refused
as outside 正定县's regions, and the 行政执法事项清单 正定县市场监督管理局 filed
at the county (a catalogue version, shown on the public catalogue pages
with 来源：由下级平台“…”报送) — so 平台对接 shows a trust list with figures
and the officers' and catalogue pages show what arrived.

The county platform is played in-process: its key pair is made here and
only its public key is kept (on the trust list); its messages are signed
with it and go through the same receiving service as a real county's
POST (services.receive_message), signature check included."""

from __future__ import annotations

from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from sanxiang.catalog.models import CatalogueKind, CatalogueVersion
from sanxiang.core import clock
from sanxiang.core.chainformat import canonical_json
from sanxiang.core.models import Agency, Officer, Region

from . import catalogue, services, webhooks
from .models import Instance
from .officers import EVENT, OBJECT_TYPE, public_officer

ACTOR = "demo-loader"
COUNTY = "130123"  # 正定县
CODE = "zhengding"


# 正定县市场监督管理局's enforcement item list as filed at the county.
COUNTY_ITEMS = [
    {"code": "ZD-CF-001", "name": "对经营超过保质期的食品的行政处罚", "act_kind": "penalty", "duty": "查处食品经营中的违法行为",
     "authority": "警告、罚款、没收违法所得", "basis_law": "《中华人民共和国食品安全法》", "basis_article": "第一百二十四条第一款第（五）项"},
    {"code": "ZD-CF-002", "name": "对未按规定公示营业执照的行政处罚", "act_kind": "penalty", "duty": "企业登记监督管理",
     "authority": "责令改正、罚款", "basis_law": "《中华人民共和国市场主体登记管理条例》", "basis_article": "第四十八条"},
    {"code": "ZD-XK-001", "name": "食品经营许可", "act_kind": "license", "duty": "食品经营许可审批", "authority": "准予或者不予许可",
     "basis_law": "《中华人民共和国食品安全法》", "basis_article": "第三十五条"},
    {"code": "ZD-JC-001", "name": "食品经营监督检查", "act_kind": "inspection", "duty": "对食品经营者实施监督检查",
     "authority": "现场检查、抽样检验、查阅复制资料", "basis_law": "《中华人民共和国食品安全法》", "basis_article": "第一百一十条"},
]


def _send(key, *, version: int, data: dict, object_type: str = OBJECT_TYPE, event: str = EVENT,
          object_key: str = "") -> services.Answer:
    object_key = object_key or data["certificate_number"]
    payload = {"type": event, "timestamp": "2026-11-20T09:00:00+08:00",
               "data": {"source": CODE, "object_type": object_type, "key": object_key,
                        "version": version, "object": data}}
    body = canonical_json(payload).encode("utf-8")
    msg_id = webhooks.message_id(CODE, object_type, object_key, version, event)
    headers = webhooks.sign(msg_id=msg_id, body=body, keys=[key]).as_dict()
    return services.receive_message(headers=headers, body=body)


@transaction.atomic
def load_docking_demo() -> int:
    """Load once (nothing if a platform is registered or the demo's county
    is missing); returns how many messages were received."""
    county = Region.objects.filter(code=COUNTY).first()
    if county is None or Instance.objects.exists():
        return 0
    key = Ed25519PrivateKey.generate()
    services.register_instance(actor=ACTOR, code=CODE, name=f"{county.name}行政执法公示平台",
                               public_key=webhooks.public_key_text(key), regions=[COUNTY],
                               endpoint="http://zhengding.example.gov.cn/")
    officers = list(Officer.objects.select_related("agency", "enforcement_region")
                    .filter(agency__region=county).order_by("pk")[:3])
    outside = (Officer.objects.select_related("agency", "enforcement_region")
               .exclude(agency__region__path__startswith=county.path).order_by("pk").first())
    sent = 0
    for n, officer in enumerate(officers):
        data = public_officer(officer)
        _send(key, version=1, data=data)
        sent += 1
        if n == 0:  # promoted at the county: the change follows at the province
            _send(key, version=2, data={**data, "post": "中队长"})
            sent += 1
    if outside is not None:  # not 正定县's to report: refused, listed
        _send(key, version=1, data=public_officer(outside))
        sent += 1
    agency = Agency.objects.filter(region=county, name="正定县市场监督管理局").first()
    kind = CatalogueKind.ENFORCEMENT_ITEMS
    if agency is not None and not CatalogueVersion.objects.filter(agency=agency, kind=kind).exists():
        # filed at the county last week: in force at the province too
        filed = clock.now() - timedelta(days=7)
        form = {"schema": "catalogue_version/1", "agency": agency.credit_code, "kind": kind, "number": 1,
                "effective_date": clock.local_date(filed).isoformat(), "filed_at": filed.isoformat(),
                "items": COUNTY_ITEMS}
        _send(key, version=1, data=form, object_type=catalogue.OBJECT_TYPE, event=catalogue.EVENT,
              object_key=f"{agency.credit_code}/{kind}/1")
        sent += 1
    return sent


