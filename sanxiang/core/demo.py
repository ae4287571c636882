"""Demo data: Hebei province, its cities and some counties, legal offices,
enforcement agencies, about 200 officers and one login per role.

Everything is written through ``services.py`` (so every row is validated and
audited, actor "demo-loader"), in one transaction, deterministically (seeded
Faker and ``random.Random``). Loading is idempotent: once the demo is in the
database a second call loads nothing and just returns the logins.

Only the ~10 demo logins get a password (argon2 costs ~0.1 s per hash); the
other officers have no login account.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from django.db import transaction

from . import services
from .audit import append_audit
from .models import (
    Agency, AgencyKind, AuditEntry, EnforcementCategory as Cat, Officer, OfficerStatus, Region, RegionLevel, Role, User,
)
from .validators import make_certificate_number, make_credit_code
from sanxiang.core import clock

ACTOR = "demo-loader"
DEMO_PASSWORD = "sanxiang-demo-2026"
DEFAULT_SEED = 2026
PROVINCE_CODE = "130000"

# ---------------------------------------------------------------------------
# Regions (GB/T 2260, current codes). Each city: (code, name, telephone area
# code, [(county code, county name), ...]).
# ---------------------------------------------------------------------------
PROVINCE = ("130000", "河北省")
CITIES: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    ("130100", "石家庄市", "0311", [("130102", "长安区"), ("130104", "桥西区"), ("130105", "新华区"),
                                    ("130108", "裕华区"), ("130123", "正定县")]),
    ("130200", "唐山市", "0315", [("130202", "路南区"), ("130203", "路北区"), ("130208", "丰润区"),
                                  ("130281", "遵化市"), ("130283", "迁安市")]),
    ("130300", "秦皇岛市", "0335", [("130302", "海港区"), ("130303", "山海关区"), ("130304", "北戴河区"),
                                    ("130322", "昌黎县")]),
    ("130400", "邯郸市", "0310", [("130402", "邯山区"), ("130403", "丛台区"), ("130404", "复兴区"),
                                  ("130481", "武安市")]),
    ("130500", "邢台市", "0319", [("130502", "襄都区"), ("130503", "信都区"), ("130534", "清河县"),
                                  ("130582", "沙河市")]),
    ("130600", "保定市", "0312", [("130602", "竞秀区"), ("130606", "莲池区"), ("130608", "清苑区"),
                                  ("130681", "涿州市"), ("130684", "高碑店市")]),
    ("130700", "张家口市", "0313", [("130702", "桥东区"), ("130703", "桥西区"), ("130705", "宣化区"),
                                    ("130709", "崇礼区")]),
    ("130800", "承德市", "0314", [("130802", "双桥区"), ("130803", "双滦区"), ("130821", "承德县"),
                                  ("130881", "平泉市")]),
    ("130900", "沧州市", "0317", [("130902", "新华区"), ("130903", "运河区"), ("130982", "任丘市"),
                                  ("130983", "黄骅市")]),
    ("131000", "廊坊市", "0316", [("131002", "安次区"), ("131003", "广阳区"), ("131081", "霸州市"),
                                  ("131082", "三河市")]),
    ("131100", "衡水市", "0318", [("131102", "桃城区"), ("131103", "冀州区"), ("131121", "枣强县"),
                                  ("131182", "深州市")]),
]
PROVINCE_AREA_CODE = "0311"  # provincial organs sit in Shijiazhuang

# ---------------------------------------------------------------------------
# Enforcement agencies: (region code, name, short name for document numbers,
# kind, number of officers). Legal offices are derived from these regions.
# ---------------------------------------------------------------------------
AGENCIES: list[tuple[str, str, str, str, int]] = [
    ("130000", "河北省市场监督管理局", "冀市监", AgencyKind.MARKET_REGULATION, 12),
    ("130000", "河北省生态环境厅", "冀环", AgencyKind.ECOLOGY, 8),
    ("130000", "河北省应急管理厅", "冀应急", AgencyKind.EMERGENCY, 8),
    ("130000", "河北省交通运输厅", "冀交", AgencyKind.TRANSPORT, 8),
    ("130000", "河北省自然资源厅", "冀自然资", AgencyKind.NATURAL_RESOURCES, 7),
    ("130100", "石家庄市市场监督管理局", "冀石市监", AgencyKind.MARKET_REGULATION, 16),
    ("130100", "石家庄市生态环境局", "冀石环", AgencyKind.ECOLOGY, 10),
    ("130100", "石家庄市城市管理综合行政执法局", "冀石城管", AgencyKind.URBAN_MANAGEMENT, 12),
    ("130100", "石家庄市卫生健康委员会", "冀石卫", AgencyKind.HEALTH, 8),
    ("130100", "石家庄市文化广电和旅游局", "冀石文旅", AgencyKind.CULTURE_TOURISM, 8),
    ("130200", "唐山市应急管理局", "冀唐应急", AgencyKind.EMERGENCY, 10),
    ("130300", "秦皇岛市文化广电和旅游局", "冀秦文旅", AgencyKind.CULTURE_TOURISM, 8),
    ("130400", "邯郸市交通运输局", "冀邯交", AgencyKind.TRANSPORT, 10),
    ("130600", "保定市市场监督管理局", "冀保市监", AgencyKind.MARKET_REGULATION, 12),
    ("130900", "沧州市农业农村局", "冀沧农", AgencyKind.AGRICULTURE, 8),
    ("131000", "廊坊市自然资源和规划局", "冀廊自然资", AgencyKind.NATURAL_RESOURCES, 8),
    ("130123", "正定县市场监督管理局", "正市监", AgencyKind.MARKET_REGULATION, 10),
    ("130123", "正定县综合行政执法局", "正综执", AgencyKind.URBAN_MANAGEMENT, 10),
    ("130102", "石家庄市长安区城市管理综合行政执法局", "长城管", AgencyKind.URBAN_MANAGEMENT, 8),
    ("130283", "迁安市农业农村局", "迁农", AgencyKind.AGRICULTURE, 7),
    ("130681", "涿州市应急管理局", "涿应急", AgencyKind.EMERGENCY, 6),
    ("130481", "武安市自然资源和规划局", "武自然资", AgencyKind.NATURAL_RESOURCES, 6),
]

# Legal affairs office names: a province has a 司法厅, cities and counties 司法局.
LEGAL_OFFICE_SHORT = {"130000": "冀司"}

# What each kind of agency may do (执法类别); the first ones are the core.
CATEGORIES_BY_KIND: dict[str, list[str]] = {
    AgencyKind.MARKET_REGULATION: [Cat.PENALTY, Cat.INSPECTION, Cat.COERCION, Cat.LICENSE],
    AgencyKind.ECOLOGY: [Cat.PENALTY, Cat.INSPECTION, Cat.COERCION],
    AgencyKind.EMERGENCY: [Cat.INSPECTION, Cat.PENALTY, Cat.COERCION, Cat.LICENSE],
    AgencyKind.TRANSPORT: [Cat.PENALTY, Cat.INSPECTION, Cat.COERCION, Cat.LICENSE, Cat.FEE],
    AgencyKind.URBAN_MANAGEMENT: [Cat.PENALTY, Cat.INSPECTION, Cat.COERCION],
    AgencyKind.NATURAL_RESOURCES: [Cat.PENALTY, Cat.INSPECTION, Cat.LICENSE, Cat.LEVY],
    AgencyKind.CULTURE_TOURISM: [Cat.PENALTY, Cat.INSPECTION, Cat.LICENSE],
    AgencyKind.AGRICULTURE: [Cat.PENALTY, Cat.INSPECTION, Cat.LICENSE, Cat.COERCION],
    AgencyKind.HEALTH: [Cat.PENALTY, Cat.INSPECTION, Cat.LICENSE],
}

POSTS_BY_LEVEL = {
    RegionLevel.PROVINCE: ["一级主任科员", "二级主任科员", "四级主任科员", "一级科员", "处长", "副处长", "执法总队队员"],
    RegionLevel.CITY: ["科员", "一级科员", "科长", "副科长", "执法支队队员", "大队长", "四级主任科员"],
    RegionLevel.COUNTY: ["科员", "执法队员", "中队长", "所长", "副所长", "股长", "执法大队队员"],
}

SUSPEND_REASONS = ["涉嫌违纪接受调查，暂扣执法证件", "长期脱离执法岗位，暂扣执法证件", "未按规定参加年度执法培训考试，暂扣执法证件"]
REVOKE_REASONS = ["调离行政执法岗位，注销执法证件", "退休，注销执法证件", "严重违法违纪，吊销执法证件"]

CERTIFICATE_YEARS = 5  # validity of a certificate in this demo (a local practice, not national law)


class DemoLogin(NamedTuple):
    role_label: str  # Chinese
    username: str
    password: str
    sees: str  # what this login can see, in Chinese


@dataclass
class DemoResult:
    loaded: bool
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)


class DemoConflict(Exception):
    """The database holds part of the demo (or rows that clash with it)."""


# username, role, Chinese label, what they see. Scope is filled in by _load.
DEMO_USERS: list[tuple[str, str, str, str]] = [
    ("officer", Role.OFFICER, "执法人员", "石家庄市市场监督管理局：本人承办的案件、证件与待办"),
    ("reviewer", Role.LEGAL_REVIEWER, "法制审核人员", "石家庄市市场监督管理局：待法制审核的重大执法决定"),
    ("head", Role.AGENCY_HEAD, "部门负责人", "石家庄市市场监督管理局：本部门全部案件、审批与集体讨论"),
    ("publicity", Role.PUBLICITY_ADMIN, "公示管理员", "石家庄市市场监督管理局：待公示、已公示和撤回的信息"),
    ("legal_sjz", Role.LEGAL_SUPERVISOR, "司法局监督人员（市级）", "石家庄市司法局：石家庄市及所辖县区全部执法部门"),
    ("legal_hebei", Role.LEGAL_SUPERVISOR, "司法厅监督人员（省级）", "河北省司法厅：全省各级执法部门"),
    ("county_officer", Role.OFFICER, "执法人员（县级）", "正定县市场监督管理局：本人承办的案件（辖区仅限正定县）"),
    ("admin", Role.SYSADMIN, "系统管理员", "全部数据、用户、角色与审计日志"),
    ("api", Role.API_CLIENT, "接口客户端", "石家庄市市场监督管理局：通过接口推送和读取本部门数据"),
]
DEMO_USERNAMES = [u[0] for u in DEMO_USERS]

MAIN_AGENCY = "石家庄市市场监督管理局"
COUNTY_AGENCY = "正定县市场监督管理局"


def demo_logins() -> list[DemoLogin]:
    return [DemoLogin(label, username, DEMO_PASSWORD, sees) for username, _role, label, sees in DEMO_USERS]


def current_counts() -> dict[str, int]:
    return {
        "regions": Region.objects.count(),
        "agencies": Agency.objects.exclude(kind=AgencyKind.LEGAL_OFFICE).count(),
        "legal_offices": Agency.objects.filter(kind=AgencyKind.LEGAL_OFFICE).count(),
        "officers": Officer.objects.count(),
        "users": User.objects.count(),
        "audit_entries": AuditEntry.objects.count(),
    }


def is_loaded() -> bool:
    return (Region.objects.filter(code=PROVINCE_CODE).exists()
            and User.objects.filter(username__in=DEMO_USERNAMES).count() == len(DEMO_USERNAMES))


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
def load_demo(*, stdout=None, seed: int = DEFAULT_SEED, today: date | None = None) -> DemoResult:
    """Load the demo once. Returns loaded=False (and loads nothing) when it is
    already there; raises DemoConflict when only part of it is."""
    with transaction.atomic():
        if is_loaded():
            _say(stdout, "演示数据已存在，未重复导入。")
            return DemoResult(loaded=False, counts=current_counts(), logins=demo_logins())
        clash_regions = Region.objects.filter(code=PROVINCE_CODE).exists()
        clash_users = sorted(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
        if clash_regions or clash_users:
            raise DemoConflict(
                "数据库中已有部分演示数据或与之冲突的数据（"
                + ("行政区划 130000；" if clash_regions else "")
                + (f"用户 {'、'.join(clash_users)}" if clash_users else "")
                + "），请在空数据库中导入演示数据。"
            )
        _Loader(seed=seed, today=today or clock.today(), stdout=stdout).run()
    return DemoResult(loaded=True, counts=current_counts(), logins=demo_logins())


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text + ("" if text.endswith("\n") else "\n"))


class _Loader:
    def __init__(self, *, seed: int, today: date, stdout):
        from faker import Faker

        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.today = today
        self.stdout = stdout
        self.regions: dict[str, Region] = {}
        self.area_codes: dict[str, str] = {PROVINCE_CODE: PROVINCE_AREA_CODE}
        self.legal_offices: dict[str, Agency] = {}
        self.agencies: dict[str, Agency] = {}
        self.serials: dict[str, int] = {}
        self.used_org_codes: set[str] = set()

    def run(self) -> None:
        self._regions()
        self._legal_offices()
        self._agencies()
        users = self._users()
        self._officers(users)
        _say(self.stdout, "演示数据导入完成。")

    # -- regions -------------------------------------------------------------
    def _regions(self) -> None:
        code, name = PROVINCE
        province = services.create_region(actor=ACTOR, code=code, name=name, level=RegionLevel.PROVINCE)
        self.regions[code] = province
        for city_code, city_name, area, counties in CITIES:
            city = services.create_region(actor=ACTOR, code=city_code, name=city_name, level=RegionLevel.CITY,
                                          parent=province)
            self.regions[city_code] = city
            self.area_codes[city_code] = area
            for county_code, county_name in counties:
                self.regions[county_code] = services.create_region(
                    actor=ACTOR, code=county_code, name=county_name, level=RegionLevel.COUNTY, parent=city)
                self.area_codes[county_code] = area
        _say(self.stdout, f"行政区划：{len(self.regions)} 个")

    def _full_name(self, region: Region) -> str:
        """河北省石家庄市正定县 for a county, 河北省石家庄市 for a city ..."""
        names, node = [], region
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))

    # -- agencies ------------------------------------------------------------
    def _credit_code(self, region_code: str) -> str:
        while True:
            body = "0" + "".join(str(self.rng.randrange(10)) for _ in range(7))
            if body not in self.used_org_codes:
                self.used_org_codes.add(body)
                return make_credit_code(region_code=region_code, org_body=body)

    def _address(self, region: Region) -> str:
        # Provincial organs sit in the provincial capital.
        place = "河北省石家庄市" if region.level == RegionLevel.PROVINCE else self._full_name(region)
        return f"{place}{self.fake.street_name()}{self.rng.randint(1, 399)}号"

    def _phone(self, region_code: str) -> str:
        return f"{self.area_codes[region_code]}-{self.fake.numerify('8#######')}"

    def _legal_office_name(self, region: Region) -> tuple[str, str]:
        if region.level == RegionLevel.PROVINCE:
            return "河北省司法厅", LEGAL_OFFICE_SHORT[region.code]
        if region.level == RegionLevel.CITY:
            return f"{region.name}司法局", f"冀{region.name[0]}司"
        # Districts carry the city name (石家庄市长安区司法局); county-level
        # cities and counties stand alone (正定县司法局, 迁安市司法局).
        prefix = region.parent.name if region.name.endswith("区") else ""
        return f"{prefix}{region.name}司法局", f"{region.name[:2]}司"

    def _legal_offices(self) -> None:
        codes = {PROVINCE_CODE} | {c for c, *_ in CITIES} | {a[0] for a in AGENCIES}
        for code in sorted(codes):
            region = self.regions[code]
            name, short = self._legal_office_name(region)
            self.legal_offices[code] = services.create_agency(
                actor=ACTOR, name=name, short_name=short, credit_code=self._credit_code(code), region=region,
                kind=AgencyKind.LEGAL_OFFICE, address=self._address(region), phone=self._phone(code))
        _say(self.stdout, f"司法行政机关：{len(self.legal_offices)} 个")

    def _agencies(self) -> None:
        for region_code, name, short, kind, _n in AGENCIES:
            region = self.regions[region_code]
            self.agencies[name] = services.create_agency(
                actor=ACTOR, name=name, short_name=short, credit_code=self._credit_code(region_code), region=region,
                kind=kind, legal_office=self.legal_offices[region_code], address=self._address(region),
                phone=self._phone(region_code))
        _say(self.stdout, f"执法部门：{len(self.agencies)} 个")

    # -- users ---------------------------------------------------------------
    def _users(self) -> dict[str, User]:
        main = self.agencies[MAIN_AGENCY]
        county = self.agencies[COUNTY_AGENCY]
        scope = {
            "officer": {"agency": main}, "reviewer": {"agency": main}, "head": {"agency": main},
            "publicity": {"agency": main}, "api": {"agency": main},
            # Supervisors belong to their legal office: filings (备案) go to it.
            "legal_sjz": {"region": self.regions["130100"], "agency": self.legal_offices["130100"]},
            "legal_hebei": {"region": self.regions[PROVINCE_CODE], "agency": self.legal_offices[PROVINCE_CODE]},
            "county_officer": {"agency": county}, "admin": {},
        }
        users: dict[str, User] = {}
        for username, role, label, _sees in DEMO_USERS:
            display = "石家庄市市场监督管理局接口" if role == Role.API_CLIENT else (
                "系统管理员" if role == Role.SYSADMIN else self.fake.name())
            users[username] = services.create_user(
                actor=ACTOR, username=username, password=DEMO_PASSWORD, role=role, display_name=display,
                **scope[username])
        admin = users["admin"]
        admin.is_superuser = True
        admin.save(update_fields=["is_superuser"])
        append_audit(actor=ACTOR, action="user.superuser", obj=admin, payload={"username": admin.username, "is_superuser": True})
        _say(self.stdout, f"演示账号：{len(users)} 个")
        return users

    # -- officers ------------------------------------------------------------
    def _certificate_number(self, region_code: str) -> str:
        self.serials[region_code] = self.serials.get(region_code, 0) + 1
        return make_certificate_number(region_code, self.serials[region_code])

    def _officers(self, users: dict[str, User]) -> None:
        # Which officers (by global index) get a non-default state, spread over
        # the agencies so every verification outcome can be demonstrated.
        total = sum(a[4] for a in AGENCIES)
        indexes = list(range(total))
        self.rng.shuffle(indexes)
        suspended = set(indexes[0:6])
        revoked = set(indexes[6:11])
        expired = set(indexes[11:20])
        linked = {MAIN_AGENCY: users["officer"], COUNTY_AGENCY: users["county_officer"]}

        i = 0
        for region_code, agency_name, _short, kind, n in AGENCIES:
            agency = self.agencies[agency_name]
            region = self.regions[region_code]
            allowed = CATEGORIES_BY_KIND[kind]
            posts = POSTS_BY_LEVEL[region.level]
            for k in range(n):
                user = linked.get(agency_name) if k == 0 else None
                change = None
                if user is None and i in suspended:
                    change = (OfficerStatus.SUSPENDED, self.rng.choice(SUSPEND_REASONS))
                elif user is None and i in revoked:
                    change = (OfficerStatus.REVOKED, self.rng.choice(REVOKE_REASONS))
                if user is None and i in expired:
                    # Issued 5-7 years ago, so the certificate has run out.
                    valid_from = self.today - timedelta(days=self.rng.randint(CERTIFICATE_YEARS * 365 + 30, 7 * 365))
                else:
                    valid_from = self.today - timedelta(days=self.rng.randint(30, 4 * 365))
                valid_to = _add_years(valid_from, CERTIFICATE_YEARS) - timedelta(days=1)
                core = allowed[:2]
                extra = [c for c in allowed[2:] if self.rng.random() < 0.5]
                categories = [c.value for c in Cat if c in core or c in extra]
                officer = services.create_officer(
                    actor=ACTOR, name=user.display_name if user else self.fake.name(), agency=agency,
                    certificate_number=self._certificate_number(region_code), categories=categories,
                    enforcement_region=region, valid_from=valid_from, valid_to=valid_to,
                    post=self.rng.choice(posts), status=OfficerStatus.ACTIVE, user=user)
                if change:
                    # Issued first, then suspended or revoked with a reason,
                    # so the audit chain tells the certificate's story.
                    services.set_officer_status(actor=ACTOR, officer=officer, status=change[0], reason=change[1])
                i += 1
        _say(self.stdout, f"执法人员：{i} 名")


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)
