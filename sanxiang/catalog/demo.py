"""Demo catalogues (公示-3/5/6/7) for the demo's main agency, filed and
accepted through the real workflow: drafted by its publicity administrator
from an Excel file, submitted, accepted by its legal office; then a revised
inspection list filed and left for the legal office to accept (its to-do)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from sanxiang.core.models import Agency, User

from . import services
from .excel import COLUMNS, _workbook
from .models import CatalogueKind, CatalogueVersion
from sanxiang.core import clock

ENFORCEMENT_ITEMS = [
    ["SJZ-CF-001", "对经营超过保质期的食品的行政处罚", "行政处罚", "查处食品经营中的违法行为", "警告、罚款、没收违法所得、吊销许可证",
     "《中华人民共和国食品安全法》", "第一百二十四条第一款第（五）项"],
    ["SJZ-CF-002", "对未取得食品经营许可从事食品经营活动的行政处罚", "行政处罚", "查处无证经营食品行为", "没收违法所得和食品、罚款",
     "《中华人民共和国食品安全法》", "第一百二十二条第一款"],
    ["SJZ-CF-003", "对发布虚假广告的行政处罚", "行政处罚", "广告监督管理", "责令停止发布、罚款、吊销营业执照",
     "《中华人民共和国广告法》", "第五十五条第一款"],
    ["SJZ-CF-004", "对销售不合格产品的行政处罚", "行政处罚", "产品质量监督", "没收、罚款、吊销营业执照",
     "《中华人民共和国产品质量法》", "第四十九条"],
    ["SJZ-QZ-001", "对有证据证明不符合食品安全标准的食品的查封、扣押", "行政强制", "食品安全监督检查", "查封、扣押",
     "《中华人民共和国食品安全法》", "第一百一十条第（四）项"],
    ["SJZ-XK-001", "食品经营许可", "行政许可", "食品经营许可审批", "准予或者不予许可",
     "《中华人民共和国食品安全法》", "第三十五条"],
    ["SJZ-JC-001", "食品经营监督检查", "行政检查", "对食品经营者实施监督检查", "现场检查、抽样检验、查阅复制资料",
     "《中华人民共和国食品安全法》", "第一百一十条"],
]
INSPECTION_ITEMS = [
    ["SJZ-SJ-001", "食品经营者日常监督检查", "石家庄市市场监督管理局", "《中华人民共和国食品安全法》第一百一十条",
     "辖区内食品经营者", "经营条件、进货查验记录、食品贮存", "5%", "双随机现场检查", "每年不少于1次"],
    ["SJZ-SJ-002", "广告发布行为检查", "石家庄市市场监督管理局", "《中华人民共和国广告法》第四十九条",
     "广告主、广告经营者、广告发布者", "广告内容的真实性、合法性", "3%", "双随机书面检查", "每年1次"],
]
SERVICE_GUIDES = [
    ["SJZ-XK-001", "食品经营许可", "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》",
     "石家庄市市场监督管理局政务服务窗口", "石家庄市市场监督管理局",
     "具有与经营的食品品种、数量相适应的经营场所、设备设施、管理制度和食品安全管理人员", "小微企业、个体工商户申请免收工本费",
     "食品经营许可申请书；营业执照复印件；经营场所平面图；食品安全管理制度文本", "申请—受理—审查—决定—发证",
     "10个工作日", "接受社会监督，投诉举报电话12315", "违法违规审批的依法追究责任",
     "不服许可决定的，可以依法申请行政复议或者提起行政诉讼", "工作日 上午9:00—12:00，下午13:30—17:00",
     "石家庄市长安区市民服务中心二楼", "0311-12345678"],
]
FLOWCHARTS = [["行政处罚", "一般程序", "适用于本部门行政处罚一般程序案件"],
              ["行政处罚", "简易程序", "当场作出的警告或小额罚款（行政处罚法第五十一条）"],
              ["行政许可", "一般程序", "食品经营许可等行政许可事项"],
              ["行政强制", "一般程序", "查封、扣押等行政强制措施"]]
# A revision filed and not yet accepted: the legal office's filing to accept
# (备案, 公示-3) on its to-do list (issue 11 item 9).
REVISED_INSPECTION_ITEMS = INSPECTION_ITEMS + [
    ["SJZ-SJ-003", "产品质量监督抽查", "石家庄市市场监督管理局", "《中华人民共和国产品质量法》第十五条",
     "辖区内产品生产者、销售者", "产品质量是否符合国家标准、行业标准", "2%", "双随机抽样检验", "每年不少于1次"],
]
ROWS = {CatalogueKind.ENFORCEMENT_ITEMS: ENFORCEMENT_ITEMS, CatalogueKind.INSPECTION_ITEMS: INSPECTION_ITEMS,
        CatalogueKind.SERVICE_GUIDES: SERVICE_GUIDES, CatalogueKind.FLOWCHARTS: FLOWCHARTS}


@transaction.atomic
def load_catalogue_demo(*, agency_name: str = "石家庄市市场监督管理局", editor: str = "publicity",
                        decider: str = "legal_sjz") -> int:
    """File and accept the four lists once, then file a revision of the
    inspection items that waits for the legal office; returns how many
    versions were accepted."""
    agency = Agency.objects.filter(name=agency_name).first()
    editor_user = User.objects.filter(username=editor).first()
    decider_user = User.objects.filter(username=decider).first()
    if not (agency and editor_user and decider_user) or CatalogueVersion.objects.filter(agency=agency).exists():
        return 0
    for kind, rows in ROWS.items():
        data = _workbook("清单", [(c.header, c.width) for c in COLUMNS[kind]], rows)
        version = services.start_draft(actor=editor_user, agency=agency, kind=kind, note="演示数据")
        result = services.import_items(actor=editor_user, version=version, data=data, filename="demo.xlsx")
        if getattr(result, "errors", None):
            raise ValueError(f"demo catalogue {kind} did not import: {result.errors}")
        services.submit_version(actor=editor_user, version=version, effective_date=clock.today())
        services.accept_version(actor=decider_user, version=version)
    kind = CatalogueKind.INSPECTION_ITEMS
    data = _workbook("清单", [(c.header, c.width) for c in COLUMNS[kind]], REVISED_INSPECTION_ITEMS)
    revision = services.start_draft(actor=editor_user, agency=agency, kind=kind, note="增加产品质量监督抽查事项")
    result = services.import_items(actor=editor_user, version=revision, data=data, filename="demo.xlsx")
    if getattr(result, "errors", None):
        raise ValueError(f"demo catalogue revision did not import: {result.errors}")
    services.submit_version(actor=editor_user, version=revision, effective_date=clock.today() + timedelta(days=30))
    return len(ROWS)
