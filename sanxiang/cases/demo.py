"""Demo cases (issue 11 item 9): the parties, facts and proposed decisions
of the demo's cases, and a helper that walks a case's steps on the days
they happened, through the case services only (each step checked by the
rules of procedure, audited, its deadlines computed).

Which state each case is brought to, and what other apps add on the way
(AV evidence, documents, legal review, publication), is composed by the
project's demo loader (``sanxiang/demo.py``), which may use every app; this
module knows only the cases app and below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sanxiang.core import clock
from sanxiang.core.calendar import calendar_session
from sanxiang.core.validators import make_credit_code
from sanxiang.core.vocabulary import PartyType

from . import services
from .models import Case, CaseStep

# Demo states, in the order a case passes them (the loader's vocabulary).
OPENED = "opened"  # 刚立案
INVESTIGATING = "investigating"  # 调查取证中，已上传音像记录
AWAITING_REVIEW = "awaiting_review"  # 已送法制审核，待审核
REVIEW_RETURNED = "review_returned"  # 审核意见“存在问题”，退回承办机构
HEARING_REQUESTED = "hearing_requested"  # 当事人要求听证
DECIDED_PUBLISHED = "decided_published"  # 已作出决定并公示
WITHDRAWN = "withdrawn"  # 决定被复议撤销，公示已撤回
CLOSED = "closed"  # 已结案，电子案卷已生成
TERMINATED = "terminated"  # 撤销立案（终止）
STATES = (OPENED, INVESTIGATING, AWAITING_REVIEW, REVIEW_RETURNED, HEARING_REQUESTED, DECIDED_PUBLISHED, WITHDRAWN,
          CLOSED, TERMINATED)

MAIN_AGENCY = "石家庄市市场监督管理局"
COUNTY_AGENCY = "正定县市场监督管理局"


@dataclass(frozen=True)
class DemoCase:
    """One demo case: who, what, and the state the loader brings it to.
    ``opened_ago`` counts working days back from today."""

    key: str
    state: str
    agency: str
    title: str
    party_name: str
    party_type: str
    party_address: str
    facts: str
    violated_provision: str
    basis: str
    opened_ago: int
    credit_serial: int | None = None  # a valid 统一社会信用代码 is made from it
    legal_representative: str = ""
    categories: tuple[str, ...] = ()
    fine_yuan: int | None = None
    place: str = ""

    @property
    def fine_fen(self) -> int | None:
        return None if self.fine_yuan is None else self.fine_yuan * 100

    def credit_code(self, region_code: str) -> str:
        if self.credit_serial is None:
            return ""
        kind = "2" if self.party_type == PartyType.INDIVIDUAL_BUSINESS else "1"
        return make_credit_code(region_code=region_code, serial=self.credit_serial, authority="9", kind=kind)


FOOD_LAW = "《中华人民共和国食品安全法》"
PRODUCT_LAW = "《中华人民共和国产品质量法》"
AD_LAW = "《中华人民共和国广告法》"

DEMO_CASES: list[DemoCase] = [
    DemoCase(
        key="xinyuan", state=OPENED, agency=MAIN_AGENCY, title="石家庄市长安区鑫源便利店销售超过保质期食品案",
        party_name="石家庄市长安区鑫源便利店", party_type=PartyType.INDIVIDUAL_BUSINESS, credit_serial=31020417,
        legal_representative="刘建华", party_address="河北省石家庄市长安区建设北大街126号",
        facts="执法人员日常监督检查中发现，当事人货架上摆放超过保质期的乳制品12盒、饮料8瓶，标价待售。",
        violated_provision=f"{FOOD_LAW}第三十四条第（十）项", basis=f"{FOOD_LAW}第一百二十四条第一款第（五）项",
        opened_ago=0, place="石家庄市长安区建设北大街126号"),
    DemoCase(
        key="huimin", state=INVESTIGATING, agency=MAIN_AGENCY, title="石家庄惠民大药房连锁有限公司销售不合格医用口罩案",
        party_name="石家庄惠民大药房连锁有限公司", party_type=PartyType.LEGAL_PERSON, credit_serial=60512873,
        legal_representative="孙立新", party_address="河北省石家庄市桥西区中山西路89号",
        facts="当事人销售的一次性使用医用口罩经抽样检验，细菌过滤效率不符合YY/T 0969-2013标准要求，判定为不合格产品，已销售1,260只。",
        violated_provision=f"{PRODUCT_LAW}第三十九条", basis=f"{PRODUCT_LAW}第四十九条",
        opened_ago=6, place="石家庄市桥西区中山西路89号"),
    DemoCase(
        key="hengtong", state=AWAITING_REVIEW, agency=MAIN_AGENCY, title="河北恒通建材贸易有限公司销售不合格钢筋案",
        party_name="河北恒通建材贸易有限公司", party_type=PartyType.LEGAL_PERSON, credit_serial=71034592,
        legal_representative="王振国", party_address="河北省石家庄市裕华区槐安东路158号",
        facts="当事人销售的热轧带肋钢筋经监督抽查，屈服强度、断后伸长率不符合GB/T 1499.2-2024标准要求，货值金额为人民币98,600元，违法所得人民币12,400元。",
        violated_provision=f"{PRODUCT_LAW}第三十九条", basis=f"{PRODUCT_LAW}第四十九条",
        categories=("罚款",), fine_yuan=150_000, opened_ago=11, place="石家庄市裕华区槐安东路158号"),
    DemoCase(
        key="youpin", state=REVIEW_RETURNED, agency=MAIN_AGENCY, title="石家庄优品广告传媒有限公司发布虚假广告案",
        party_name="石家庄优品广告传媒有限公司", party_type=PartyType.LEGAL_PERSON, credit_serial=52260318,
        legal_representative="赵晓燕", party_address="河北省石家庄市新华区友谊北大街302号",
        facts="当事人在其运营的微信公众号发布保健食品广告，宣称产品“治疗高血压、三个月根治糖尿病”，广告费用人民币40,000元。",
        violated_provision=f"{AD_LAW}第二十八条第二款第（二）项", basis=f"{AD_LAW}第五十五条第一款",
        categories=("罚款",), fine_yuan=200_000, opened_ago=13, place="石家庄市新华区友谊北大街302号"),
    DemoCase(
        key="laozhang", state=HEARING_REQUESTED, agency=MAIN_AGENCY, title="石家庄市新华区老张烧烤店未取得食品经营许可从事食品经营案",
        party_name="石家庄市新华区老张烧烤店", party_type=PartyType.INDIVIDUAL_BUSINESS, credit_serial=40817265,
        legal_representative="张德胜", party_address="河北省石家庄市新华区民族路56号",
        facts="当事人未取得食品经营许可，自今年7月起在民族路56号经营烧烤餐饮，违法所得人民币23,500元。",
        violated_provision=f"{FOOD_LAW}第三十五条第一款", basis=f"{FOOD_LAW}第一百二十二条第一款",
        categories=("罚款",), fine_yuan=50_000, opened_ago=10, place="石家庄市新华区民族路56号"),
    DemoCase(
        key="kangda", state=DECIDED_PUBLISHED, agency=MAIN_AGENCY, title="石家庄康达食品有限公司经营超过保质期食品原料案",
        party_name="石家庄康达食品有限公司", party_type=PartyType.LEGAL_PERSON, credit_serial=83317406,
        legal_representative="李国强", party_address="河北省石家庄市栾城区装备制造基地康达路8号",
        facts="当事人使用超过保质期的面粉、食用植物油等食品原料生产糕点，涉案原料货值金额人民币11,800元，生产的糕点已全部召回。",
        violated_provision=f"{FOOD_LAW}第三十四条第（二）项", basis=f"{FOOD_LAW}第一百二十四条第一款第（二）项",
        categories=("罚款",), fine_yuan=120_000, opened_ago=14, place="石家庄市栾城区装备制造基地康达路8号"),
    DemoCase(
        key="meijia", state=WITHDRAWN, agency=MAIN_AGENCY, title="石家庄市裕华区美佳超市有限公司销售标签不符合规定的预包装食品案",
        party_name="石家庄市裕华区美佳超市有限公司", party_type=PartyType.LEGAL_PERSON, credit_serial=26650931,
        legal_representative="陈美佳", party_address="河北省石家庄市裕华区体育南大街210号",
        facts="当事人销售的进口预包装饼干无中文标签，货值金额人民币3,200元。",
        violated_provision=f"{FOOD_LAW}第九十七条", basis=f"{FOOD_LAW}第一百二十五条第一款第（四）项",
        categories=("罚款",), fine_yuan=30_000, opened_ago=14, place="石家庄市裕华区体育南大街210号"),
    DemoCase(
        key="chenguang", state=CLOSED, agency=MAIN_AGENCY, title="石家庄市桥西区晨光副食店销售超过保质期食品案",
        party_name="石家庄市桥西区晨光副食店", party_type=PartyType.INDIVIDUAL_BUSINESS, credit_serial=17724508,
        legal_representative="周桂芳", party_address="河北省石家庄市桥西区红旗大街77号",
        facts="当事人销售超过保质期的袋装方便面20袋、火腿肠15根，货值金额人民币126元。",
        violated_provision=f"{FOOD_LAW}第三十四条第（十）项", basis=f"{FOOD_LAW}第一百二十四条第一款第（五）项",
        categories=("罚款",), fine_yuan=5_000, opened_ago=30, place="石家庄市桥西区红旗大街77号"),
    DemoCase(
        key="huatai", state=TERMINATED, agency=MAIN_AGENCY, title="石家庄华泰电器销售有限公司涉嫌销售不合格电热水壶案",
        party_name="石家庄华泰电器销售有限公司", party_type=PartyType.LEGAL_PERSON, credit_serial=64408113,
        legal_representative="韩东升", party_address="河北省石家庄市长安区中山东路388号",
        facts="举报称当事人销售的电热水壶不符合安全标准；经对同批次产品复检合格，原检测报告所涉样品并非当事人所售。",
        violated_provision=f"{PRODUCT_LAW}第三十九条", basis=f"{PRODUCT_LAW}第四十九条",
        opened_ago=12, place="石家庄市长安区中山东路388号"),
    DemoCase(
        key="gucheng", state=INVESTIGATING, agency=COUNTY_AGENCY, title="正定县古城餐饮管理有限公司使用不合格餐具案",
        party_name="正定县古城餐饮管理有限公司", party_type=PartyType.LEGAL_PERSON, credit_serial=55190274,
        legal_representative="高志远", party_address="河北省石家庄市正定县燕赵南大街45号",
        facts="当事人后厨使用的集中消毒餐具经快速检测大肠菌群阳性，且无法提供消毒单位的检验合格证明。",
        violated_provision=f"{FOOD_LAW}第五十六条第二款", basis=f"{FOOD_LAW}第一百二十六条第一款第（五）项",
        opened_ago=16, place="正定县燕赵南大街45号"),
]


def working_days_ago(n: int, *, today: date | None = None) -> date:
    """The day ``n`` working days before today (today itself for 0 when it
    is a working day, else the last working day before it)."""
    day, calendar = today or clock.today(), calendar_session()
    while not calendar.status(day)[0]:
        day -= timedelta(days=1)
    while n > 0:
        day -= timedelta(days=1)
        if calendar.status(day)[0]:
            n -= 1
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime | None:
    """A moment of ``day`` in China time; None (= now, for the services)
    when that moment has not come yet (a demo built early in the morning)."""
    moment = datetime.combine(day, time(hour, minute), tzinfo=clock.SHANGHAI)
    return moment if moment <= clock.now() else None


def open_demo_case(*, actor, demo: DemoCase, agency, officers, opened_on: date) -> Case:
    return services.open_case(
        actor=actor, agency=agency, title=demo.title, act_kind="penalty", party_name=demo.party_name,
        party_type=demo.party_type, party_credit_code=demo.credit_code(agency.region.code), opened_on=opened_on,
        officers=officers, lead=officers[0])


def start(*, actor, case: Case, code: str, when: datetime | None, place: str = "", note: str = "") -> CaseStep:
    return services.start_step(actor=actor, case=case, code=code, at=when, place=place, note=note)


def finish(*, actor, step: CaseStep, when: datetime | None, note: str | None = None,
           served_on: date | None = None) -> CaseStep:
    step.refresh_from_db()
    return services.complete_step(actor=actor, step=step, at=when, note=note, served_on=served_on)


def run_step(*, actor, case: Case, code: str, day: date, hours: tuple[int, int] = (9, 11), place: str = "",
             note: str = "", served_on: date | None = None) -> CaseStep:
    """A step started and completed on ``day`` (no AV: the loader uploads
    AV itself between ``start`` and ``finish``)."""
    step = start(actor=actor, case=case, code=code, when=at(day, hours[0]), place=place, note=note)
    return finish(actor=actor, step=step, when=at(day, hours[1]), served_on=served_on)
