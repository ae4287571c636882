"""Search benchmark: fill a fresh database with realistic published
decisions, build the index, time `search_public` end to end.

    run_search_bench(records=100_000, progress=print) -> dict

The caller chooses the database (DATABASE_URL, or a temporary
SANXIANG_DATA_DIR for SQLite) before calling; this module sets Django up if
needed, migrates, and refuses a database that already has public decisions.
Generation is fast because every text is assembled from pools of phrases
precomputed once (Faker zh_CN names, addresses and company names).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from datetime import date, datetime, timedelta, timezone

SEED = 20260
START = date(2021, 1, 4)
END = date(2026, 10, 30)

CITIES = [("130100", "石家庄市", "石"), ("130200", "唐山市", "唐"), ("130300", "秦皇岛市", "秦"), ("130400", "邯郸市", "邯"),
          ("130500", "邢台市", "邢"), ("130600", "保定市", "保"), ("130700", "张家口市", "张"), ("130800", "承德市", "承"),
          ("130900", "沧州市", "沧"), ("131000", "廊坊市", "廊"), ("131100", "衡水市", "衡")]
COUNTY_SUFFIX = ["区", "区", "区", "县", "县", "县", "县", "市", "县", "县"]
COUNTY_STEMS = ["长安", "桥西", "新华", "裕华", "正定", "行唐", "灵寿", "高邑", "深泽", "赞皇", "无极", "平山", "元氏",
                "赵县", "辛集", "晋州", "新乐", "路南", "路北", "古冶", "开平", "丰南", "丰润", "曹妃甸", "滦南", "乐亭",
                "迁西", "玉田", "遵化", "迁安", "海港", "山海关", "北戴河", "抚宁", "青龙", "昌黎", "卢龙", "邯山", "丛台",
                "复兴", "峰峰", "肥乡", "永年", "临漳", "成安", "大名", "涉县", "磁县", "襄都", "信都", "任泽", "南和"]
AGENCY_KINDS = [("market_regulation", "市场监督管理局", "市监"), ("ecology", "生态环境分局", "环"),
                ("emergency", "应急管理局", "应急"), ("transport", "交通运输局", "交"), ("urban_management", "城市管理综合行政执法局", "城管")]

# (violation, act kind, agency kind index, facts template, law, articles, penalty categories)
VIOLATIONS = [
    ("销售过期食品", "penalty", 0,
     "当事人{party}于{when}在{addr}经营的{shop}销售超过保质期的{food}{n}件，货值金额{money}元。经查，当事人未按规定查验食品保质期，"
     "上述行为违反了《中华人民共和国食品安全法》第三十四条第（十）项的规定。",
     "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项", ["警告", "罚款", "没收违法所得、没收非法财物"]),
    ("未取得营业执照从事经营", "penalty", 0,
     "经查，当事人{party}自{when}起在{addr}从事{trade}经营活动，未依法取得营业执照，至案发时违法所得{money}元。"
     "当事人的行为违反了《无证无照经营查处办法》第二条的规定，属于无照经营行为。",
     "《无证无照经营查处办法》第十三条", ["罚款", "没收违法所得、没收非法财物"]),
    ("食品经营许可证过期", "penalty", 0,
     "当事人{party}的食品经营许可证已于{when}到期，未按规定申请延续，仍在{addr}从事{food}的销售，"
     "违反了《中华人民共和国食品安全法》第三十五条第一款的规定。",
     "《中华人民共和国食品安全法》第一百二十二条第一款", ["罚款", "没收违法所得、没收非法财物"]),
    ("销售不合格药品", "penalty", 0,
     "当事人{party}于{when}在{addr}销售的{drug}经抽样检验不符合规定，涉案药品货值金额{money}元，"
     "违反了《中华人民共和国药品管理法》第九十八条第一款的规定。",
     "《中华人民共和国药品管理法》第一百一十七条第一款", ["罚款", "没收违法所得、没收非法财物", "吊销许可证件"]),
    ("违规贮存危险废物", "penalty", 1,
     "经现场检查，当事人{party}于{when}将生产过程中产生的{waste}约{n}吨露天堆放于{addr}厂区内，未设置危险废物识别标志，"
     "违反了《中华人民共和国固体废物污染环境防治法》第七十七条、第七十九条的规定。",
     "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款第（二）项", ["罚款"]),
    ("超标排放大气污染物", "penalty", 1,
     "当事人{party}位于{addr}的生产线于{when}经监测颗粒物排放浓度超过国家排放标准{n}倍，"
     "违反了《中华人民共和国大气污染防治法》第十八条的规定。",
     "《中华人民共和国大气污染防治法》第九十九条第（二）项", ["罚款", "责令停产停业"]),
    ("未按规定开展安全生产教育培训", "penalty", 2,
     "{when}，执法人员对当事人{party}进行检查，发现其未对{n}名从业人员进行安全生产教育和培训，"
     "违反了《中华人民共和国安全生产法》第二十八条第一款的规定。",
     "《中华人民共和国安全生产法》第九十七条第（三）项", ["警告", "罚款"]),
    ("未取得道路运输经营许可擅自从事道路运输经营", "penalty", 3,
     "当事人{party}于{when}驾驶车牌号为{plate}的车辆在{addr}从事道路货物运输经营，未取得道路运输经营许可，"
     "违反了《中华人民共和国道路运输条例》第二十四条的规定。",
     "《中华人民共和国道路运输条例》第六十三条", ["罚款", "没收违法所得、没收非法财物"]),
    ("擅自占用城市道路", "penalty", 4,
     "当事人{party}于{when}在{addr}擅自占用城市道路堆放{thing}，占道面积约{n}平方米，"
     "违反了《城市道路管理条例》第二十七条第（二）项的规定。",
     "《城市道路管理条例》第四十二条", ["警告", "罚款"]),
    ("食品经营许可", "license", 0,
     "申请人{party}于{when}申请在{addr}从事{food}销售，经审查符合《中华人民共和国食品安全法》第三十五条规定的条件，准予许可。",
     "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》第十三条", []),
    ("查封扣押涉嫌违法物品", "coercion", 0,
     "{when}，执法人员在{addr}检查时发现当事人{party}存放的{food}{n}箱涉嫌不符合食品安全标准，依法予以扣押。",
     "《中华人民共和国食品安全法》第一百一十条第（三）项；《中华人民共和国行政强制法》第二十三条", []),
]
FOODS = ["火腿肠", "牛奶", "面包", "方便面", "饮料", "食用油", "饼干", "速冻水饺", "熟肉制品", "婴幼儿配方奶粉", "酱油", "月饼"]
DRUGS = ["阿莫西林胶囊", "复方甘草片", "板蓝根颗粒", "布洛芬缓释胶囊", "感冒灵颗粒", "维生素C片"]
WASTES = ["废矿物油", "废铅蓄电池", "废活性炭", "含油废抹布", "废漆渣", "废有机溶剂"]
TRADES = ["餐饮服务", "日用百货销售", "建材销售", "汽车维修", "美容美发", "网吧经营", "废旧物资回收"]
THINGS = ["建筑材料", "货物", "杂物", "经营设施", "广告牌"]
SHOPS = ["超市", "便利店", "食品商行", "副食店", "批发部", "农贸市场摊位"]
CONTENT = {"警告": "给予警告", "罚款": "罚款人民币{fine}元", "没收违法所得、没收非法财物": "没收违法所得{money}元",
           "吊销许可证件": "吊销《药品经营许可证》", "责令停产停业": "责令停产整治"}

QUERIES = ["张", "王", "罚", "食", "某", "药",
           "罚款", "食品", "营业", "危险", "警告", "超市", "药品", "安全", "牛奶", "检查",
           "营业执", "危险废", "食品安", "无证无", "某某",
           "食品安全", "营业执照", "危险废物", "过期食品", "安全生产", "道路运输", "大气污染",
           "食品 罚款", "超市 过期", "危险废物 罚款", "张 食品", "牛奶 警告", "2025 12号", "〔2026〕1号"]


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
    import django

    django.setup()


def _world(rng, fake):
    """One province, its cities and counties, five agencies per county."""
    from sanxiang.core.models import Agency, Region
    from sanxiang.core.validators import make_credit_code

    province = Region(code="130000", name="河北省", level="province", path="130000/")
    province.save()
    regions, counties = [], []
    stems = iter(COUNTY_STEMS * 3)
    for code, name, _abbr in CITIES:
        city = Region(code=code, name=name, level="city", parent=province, path=f"130000/{code}/")
        regions.append(city)
    Region.objects.bulk_create(regions)
    for city in regions:
        for n in range(1, 11):
            c = f"{city.code[:4]}{n:02d}"
            counties.append(Region(code=c, name=next(stems) + COUNTY_SUFFIX[n - 1], level="county", parent=city,
                                   path=f"{city.path}{c}/"))
    Region.objects.bulk_create(counties)
    agencies, serial = [], 1
    for county in counties:
        for kind, suffix, short in AGENCY_KINDS:
            agencies.append(Agency(name=county.name + suffix, short_name=short, kind=kind, region=county,
                                   credit_code=make_credit_code(region_code=county.code, serial=serial)))
            serial += 1
    Agency.objects.bulk_create(agencies)
    return list(Agency.objects.select_related("region").order_by("id"))


def _pools(rng, fake):
    persons = sorted({fake.last_name() + "某某" for _ in range(400)} | {fake.last_name() + "某" for _ in range(200)})
    companies = sorted({fake.company() for _ in range(3000)})
    shops = sorted({fake.last_name() + fake.first_name() + rng.choice(SHOPS) for _ in range(1500)})
    addresses = sorted({fake.street_address() for _ in range(4000)})
    plates = [f"冀{rng.choice('ABCDEFGHJR')}{rng.randrange(10000, 99999)}" for _ in range(1000)]
    return persons, companies, shops, addresses, plates


def generate(records: int, progress=None, batch: int = 5000) -> list[int]:
    """Insert `records` decisions with their public copies; returns the
    agency ids (for filters)."""
    from django.db import transaction
    from faker import Faker

    from sanxiang.publicity.models import Decision, PublicDecision

    rng = random.Random(SEED)
    fake = Faker("zh_CN")
    fake.seed_instance(SEED)
    agencies = _world(rng, fake)
    by_kind = {}
    for a in agencies:
        by_kind.setdefault(a.kind, []).append(a)
    persons, companies, shops, addresses, plates = _pools(rng, fake)
    span = (END - START).days
    serials: dict[tuple[int, int], int] = {}
    published = datetime(2021, 1, 4, 9, tzinfo=timezone.utc)
    done = 0
    while done < records:
        n = min(batch, records - done)
        decisions, publics = [], []
        for k in range(n):
            i = done + k
            # Rows arrive in publication order: the decision date follows the
            # row number with a jitter of up to three weeks.
            day = START + timedelta(days=max(0, min(span, i * span // max(records, 1) - rng.randrange(0, 21))))
            v = rng.choice(VIOLATIONS) if rng.random() < 0.8 else VIOLATIONS[rng.randrange(len(VIOLATIONS))]
            violation, act, akind, facts_t, basis, cats = v
            agency = rng.choice(by_kind[AGENCY_KINDS[akind][0]])
            natural = rng.random() < 0.35
            party = rng.choice(persons) if natural else (rng.choice(shops) if rng.random() < 0.4 else rng.choice(companies))
            money = rng.randrange(200, 90000)
            facts = facts_t.format(party=party, when=f"{day.year}年{day.month}月{day.day}日", addr=rng.choice(addresses),
                                   shop=rng.choice(SHOPS), food=rng.choice(FOODS), drug=rng.choice(DRUGS),
                                   waste=rng.choice(WASTES), trade=rng.choice(TRADES), thing=rng.choice(THINGS),
                                   plate=rng.choice(plates), n=rng.randrange(2, 60), money=money)
            chosen = [c for c in cats if rng.random() < 0.7] or cats[:1]
            fine = rng.randrange(1, 200) * 500 if "罚款" in chosen else None
            content = "；".join(CONTENT.get(c, c).format(fine=fine, money=money) for c in chosen) or "准予许可"
            key = (agency.id, day.year)
            serials[key] = serials.get(key, 0) + 1
            letter = {"penalty": "罚", "license": "许", "coercion": "强"}[act]
            doc = f"冀{agency.region.name[:2]}{agency.short_name}{letter}〔{day.year}〕{serials[key]}号"
            title = f"{party}{violation}案" if act == "penalty" else f"{party}{violation}"
            data = {"facts": facts, "basis": basis, "content": content, "violation_type": violation,
                    "penalty_categories": chosen}
            decisions.append(Decision(agency_id=agency.id, external_id=f"b{i}", kind=act, status="published", data=data,
                                      doc_number=doc, party_name=party,
                                      party_type="natural_person" if natural else "legal_person", decision_date=day))
            main = max(chosen, key=_severity) if chosen else ""
            publics.append(PublicDecision(agency_id=agency.id, region_path=agency.region.path, kind=act, version=1,
                                          doc_number=doc, party_name=party, title=title, data=data, main_category=main,
                                          fine_fen=fine * 100 if fine else None, decision_date=day,
                                          published_at=published + timedelta(minutes=i), visible=rng.random() > 0.02))
        with transaction.atomic():
            Decision.objects.bulk_create(decisions, batch_size=1000)
            for d, p in zip(decisions, publics):
                p.decision_id = d.id
            PublicDecision.objects.bulk_create(publics, batch_size=1000)
        done += n
        if progress:
            progress(f"generated {done}/{records}")
    return [a.id for a in agencies]


def _severity(category: str) -> int:
    from sanxiang.publicity.models import PENALTY_SEVERITY

    return PENALTY_SEVERITY.get(category, 0)


def query_mix(agency_ids: list[int]) -> list[dict]:
    """The fixed mix: every query alone and under one of the filters, plus
    filter-only listings."""
    rng = random.Random(SEED + 1)
    filters = [{}, {"region_code": "130100"}, {"region_code": "130203"}, {"kind": "penalty"},
               {"category": "罚款"}, {"date_from": date(2026, 1, 1), "date_to": date(2026, 6, 30)},
               {"agency_id": None}, {"region_code": "130500", "date_from": date(2025, 1, 1)}]
    mix = []
    for q in QUERIES:
        for f in (filters[0], rng.choice(filters[1:])):
            f = dict(f)
            if "agency_id" in f:
                f["agency_id"] = rng.choice(agency_ids)
            mix.append({"q": q, **f})
    for f in filters[1:]:
        f = dict(f)
        if "agency_id" in f:
            f["agency_id"] = rng.choice(agency_ids)
        mix.append({"q": "", **f})
    mix.append({"q": ""})
    return mix


def run_queries(agency_ids: list[int], *, rounds: int = 3, progress=None) -> dict:
    from sanxiang.publicity.search import search_public

    mix = query_mix(agency_ids)
    for params in mix:  # warm-up
        search_public(**params)
    times, slow = [], []
    estimates = 0
    for _ in range(rounds):
        for params in mix:
            started = time.perf_counter()
            result = search_public(**params, page=1, page_size=20)
            elapsed = (time.perf_counter() - started) * 1000
            times.append(elapsed)
            estimates += result.count_is_estimate
            slow.append((elapsed, params, result.count))
    times.sort()
    slow.sort(key=lambda s: -s[0])

    def pct(p):
        return round(times[min(len(times) - 1, int(len(times) * p))], 2)

    if progress:
        for elapsed, params, count in slow[:8]:
            progress(f"slow: {elapsed:.1f} ms {params} count={count}")
    return {"p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": round(times[-1], 2),
            "mean_ms": round(statistics.mean(times), 2), "queries": len(times), "estimated_counts": estimates,
            "slowest": [{"ms": round(e, 1), "params": {k: str(v) for k, v in p.items()}, "count": c} for e, p, c in slow[:5]]}


def run_search_bench(*, records: int, progress=None, reuse: bool = False) -> dict:
    """Fill a fresh database with `records` decisions, build the index, and
    time search_public (first page of 20 with its count) over a fixed mix.
    `reuse`: accept a database this benchmark (or `generate`) filled before
    with exactly `records` decisions and a complete index; it is vacuumed
    and analysed, then measured (the figures say "reused": true)."""
    _setup()
    from django.core.management import call_command
    from django.db import connection

    from sanxiang.core.models import Agency
    from sanxiang.publicity.models import PublicDecision
    from sanxiang.publicity.search import analyse_index, rebuild_index

    say = progress or (lambda message: None)
    call_command("migrate", verbosity=0, interactive=False)
    generate_s = build_s = None
    if reuse:
        found = PublicDecision.objects.count()
        if found != records:
            raise RuntimeError(f"--reuse: the database holds {found} public decisions, not {records}")
        agency_ids = list(Agency.objects.order_by("id").values_list("id", flat=True))
        indexed = PublicDecision.objects.filter(visible=True).count()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM publicity_search_index")
                if cursor.fetchone()[0] != indexed:
                    raise RuntimeError("--reuse: the search index is incomplete (run `sanxiang search rebuild --now`)")
                cursor.execute("SELECT count(*) FROM publicity_search_keys")
                if cursor.fetchone()[0] != indexed:
                    raise RuntimeError("--reuse: the search keys are incomplete (run `sanxiang search rebuild --now`)")
                cursor.execute("VACUUM (ANALYZE)")
        analyse_index()
    else:
        if PublicDecision.objects.exists():
            raise RuntimeError("the search benchmark needs an empty database (point DATABASE_URL at a fresh one)")
        started = time.perf_counter()
        agency_ids = generate(records, progress=say)
        generate_s = round(time.perf_counter() - started, 1)
        if connection.vendor == "postgresql":
            # After a bulk load: statistics for the planner, and the visibility
            # map set so index-only scans stay index-only (autovacuum would get
            # there later, in the middle of the measurement).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
        started = time.perf_counter()
        indexed = rebuild_index(progress=lambda done, total: done % 100_000 < 2000 and say(f"indexed {done}/{total}"))
        build_s = round(time.perf_counter() - started, 1)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    loadavg = round(os.getloadavg()[0], 2)
    figures = run_queries(agency_ids, progress=say)
    from django.db.migrations.recorder import MigrationRecorder

    # The index's schema measured (the last search migration applied).
    schema = max(MigrationRecorder.Migration.objects.filter(app="publicity").values_list("name", flat=True))
    return {"records": records, "indexed": indexed, "database": connection.vendor, "reused": reuse, "schema": schema,
            "generate_s": generate_s, "build_s": build_s, "loadavg": loadavg,
            "loadavg_end": round(os.getloadavg()[0], 2), **figures}


if __name__ == "__main__":  # a convenience for a quick local run
    print(json.dumps(run_search_bench(records=int(os.environ.get("RECORDS", "10000")), progress=print),
                     ensure_ascii=False, indent=2, default=str))
