"""Realistic demo data: Chinese complaint cases with believable timelines (`manage.py seed`).

Reproducible: the same seed and the same `now` give the same cases. The mix follows the national figures in
shared/spec/domain-notes.md (service ~43 %, business/fees ~42 %, network ~15 %), the four channels, and a
controlled share of cases that miss each obligation, so that every rule and the live board have something
to show. Timelines are planned in full and then cut at `now`: whatever had not happened yet is left out,
which is what makes the most recent cases open and some of them at risk.
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

from faker import Faker

from db.importer import write_and_evaluate
from db.obligations import write_hours
from db.locks import exclusive
from db.session import refresh_statistics, session_scope, settle_after_bulk
from domain import clock
from domain.vocab import CASE_COLUMNS

UTC = timezone.utc
H = timedelta(hours=1)

DISTRICTS = ["海陵区", "高港区", "姜堰区", "靖江市", "泰兴市", "兴化市", "医药高新区"]
PLACES = ["凤凰路", "青年南路", "鼓楼路", "海军东路", "东风路", "济川路", "迎春路", "春晖路", "五一路"]
TEAMS = {
    "网络投诉一组": "network", "网络投诉二组": "network", "资费争议组": "business",
    "业务办理组": "business", "服务质量组": "service", "综合投诉组": "service", "营业厅督办组": "service",
}
DEPARTMENTS = ["网络优化中心", "计费账务中心", "市场营销部", "渠道管理部", "客户服务中心", "政企客户部", "装维服务中心"]

# subcategory -> (weight within category, description, true reason, demand, existing problem, measure, decision)
SUBCATEGORIES: dict[str, dict[str, tuple[float, str, str, str, str, str, str]]] = {
    "network": {
        "信号弱": (0.35, "客户反映{place}附近家中室内手机信号弱，通话时断时续，已持续{days}天。",
                   "附近基站{site}号扇区天线下倾角偏大，室内覆盖不足。", "尽快改善家中信号，能正常通话。",
                   "该小区室内深度覆盖不足。", "调整天线下倾角并申请增设室分点位。", "安排网络优化，信号改善后回访确认。"),
        "网速慢": (0.30, "客户称晚间{hour}点后在{place}使用流量上网速度很慢，视频无法播放。",
                   "晚高峰该扇区PRB利用率超过85%，容量不足。", "恢复正常网速，补偿本月流量。",
                   "忙时容量不足导致速率下降。", "扩容载波并进行负载均衡，赠送10GB流量。", "扩容完成，赠送流量作为补偿。"),
        "掉话": (0.20, "客户多次在{place}通话中突然掉线，影响工作联系。",
                 "邻区漏配导致切换失败。", "解决掉话问题并说明原因。",
                 "邻区配置缺失。", "补配邻区关系并进行路测验证。", "完成邻区优化，经路测掉话已消除。"),
        "宽带断网": (0.15, "客户家庭宽带（{place}）频繁断线，光猫指示灯闪红。",
                   "入户光缆弯折导致光衰过大。", "上门维修并减免断网期间费用。",
                   "入户线路质量问题。", "更换入户皮线光缆，减免3天月租。", "上门修复并按断网天数减免费用。"),
    },
    "business": {
        "资费争议": (0.35, "客户对本月账单中{amount}元流量费有异议，称未超出套餐。",
                   "客户使用的定向流量不含该视频应用，产生通用流量费用。", "退还多收费用并解释清楚。",
                   "定向流量适用范围告知不充分。", "解释计费规则，按政策退还一半费用。", "核实计费无误，作为服务补救退还部分费用。"),
        "套餐变更": (0.25, "客户要求将套餐从{old}元降档，营业员称需等到合约期满。",
                   "客户参加的合约活动约定12个月内不可降档。", "立即降档或免除违约金。",
                   "办理时对合约限制解释不到位。", "说明合约条款，提供次月生效的合规降档方案。", "按合约规定于到期后降档，已告知客户。"),
        "业务退订": (0.20, "客户发现被开通{service}，每月扣费{amount}元，要求退订退费。",
                   "该业务由客户在营业厅办理其他业务时一并开通，签字确认存在但告知不足。", "退订并退还全部费用。",
                   "捆绑开通、告知不充分。", "立即退订并退还近三个月费用。", "退订业务并退还费用，对营业员进行再培训。"),
        "不知情定制": (0.20, "客户称从未订购{service}，却每月被扣{amount}元。",
                    "第三方合作方通过短信验证码订购，存在诱导行为。", "查明订购来源，全额退费。",
                    "合作方营销不规范。", "全额退费并将合作方列入考核。", "认定为不知情定制，全额退费并追责合作方。"),
    },
    "service": {
        "营业厅服务态度": (0.30, "客户在{place}营业厅办理业务时，工作人员态度冷淡、推诿。",
                      "当班营业员业务不熟、沟通方式不当。", "营业员道歉，并对其进行批评教育。",
                      "一线人员服务意识不足。", "营业厅负责人致电道歉，对当事人培训考核。", "核实属实，已道歉并纳入员工考核。"),
        "装维上门超时": (0.30, "客户预约{day}上午装维上门，等到下午仍无人联系。",
                     "装维人员工单排程冲突，未提前告知客户改约。", "尽快上门并给予补偿。",
                     "预约管理与改约告知缺失。", "当日加急上门，赠送一个月宽带费用。", "加急上门处理并给予补偿，优化排程提醒。"),
        "热线等待过长": (0.20, "客户拨打客服热线等待超过{minutes}分钟无人接听。",
                     "当日话务量突增，排班不足。", "改进服务，回复咨询的问题。",
                     "高峰时段人员排班不足。", "回拨解答客户问题并优化排班。", "已回拨解答，调整高峰排班。"),
        "承诺未兑现": (0.20, "客户称办理业务时承诺赠送的{gift}至今未到账。",
                    "活动配置漏录，赠品未自动发放。", "兑现承诺。",
                    "活动配置核查不严。", "补发赠品并致歉。", "补发赠品，加强活动上线核查。"),
    },
}
CATEGORY_SHARE = {"service": 0.43, "business": 0.415, "network": 0.155}
CHANNEL_SHARE = {"phone": 0.58, "online": 0.22, "face_to_face": 0.15, "letter": 0.05}
SERVICES = ["视频彩铃", "游戏包月", "手机报", "云盘会员", "音乐包"]
GIFTS = ["话费券", "流量包", "宽带提速", "视频会员"]


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


class DemoGenerator:
    def __init__(self, seed: int, now: datetime, handlers: int = 45) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.now = now.astimezone(UTC).replace(microsecond=0)
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.names = [fake.name() for _ in range(3000)]
        staff = [fake.name() for _ in range(handlers * 2)]
        staff = list(dict.fromkeys(staff))[:handlers]
        team_names = list(TEAMS)
        self.handlers = [(name, team_names[i % len(team_names)]) for i, name in enumerate(staff)]
        self.by_category: dict[str, list[tuple[str, str]]] = {c: [] for c in CATEGORY_SHARE}
        for h in self.handlers:
            self.by_category[TEAMS[h[1]]].append(h)

    def _text(self, template: str) -> str:
        r = self.rng
        return template.format(place=r.choice(DISTRICTS) + r.choice(PLACES), days=r.randint(2, 20),
                               site=r.randint(1000, 9999), hour=r.choice([19, 20, 21, 22]),
                               amount=r.choice([15, 20, 30, 58, 88, 120]), old=r.choice([128, 158, 198]),
                               service=r.choice(SERVICES), day=r.choice(["周一", "周三", "周六", "昨天"]),
                               minutes=r.choice([10, 15, 20]), gift=r.choice(GIFTS))

    def _personal_details(self, c: dict[str, Any]) -> None:
        """Real work orders repeat personal data in free text (a call-back number, the name, the home
        address): a share of the demo descriptions does too, so that de-identification has work to do.
        A separate generator per case keeps the main sequence (and every other field) unchanged."""
        r = random.Random(c["case_no"])
        if r.random() < 0.3:
            name, phone = c["customer_name"], c["customer_phone"]
            extra = r.choice([f"客户{name}要求回电{phone}。", f"{name[0]}先生/女士留言：请拨打{phone[:3]}-{phone[3:7]}-{phone[7:]}联系。",
                              f"装维地址：{r.choice(DISTRICTS)}{r.choice(['凤凰路', '海陵南路', '人民中路', '鼓楼路'])}{r.randint(1, 300)}号{r.randint(1, 20)}栋{r.randint(1, 4)}单元{r.randint(1, 30)}0{r.randint(1, 4)}室。"])
            c["description"] = (c["description"] or "") + extra

    def _received(self) -> datetime:
        r = self.rng
        day = self.now - timedelta(days=r.random() ** 1.15 * 180)  # a little denser towards now
        local = day.astimezone(timezone(timedelta(hours=8)))
        hour = r.choices(range(24), weights=[1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 7, 8, 9, 9, 8, 7, 6, 6, 5, 4, 2, 1])[0]
        local = local.replace(hour=hour, minute=r.randint(0, 59), second=0, microsecond=0)
        return min(local.astimezone(UTC), self.now - timedelta(minutes=r.randint(1, 30)))

    def case(self, i: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        r = self.rng
        category = _pick(r, CATEGORY_SHARE)
        subs = SUBCATEGORIES[category]
        sub = r.choices(list(subs), weights=[v[0] for v in subs.values()])[0]
        _w, desc, reason, demand, problem, measure, decision = subs[sub]
        handler, team = r.choice(self.by_category[category] or self.handlers)
        received = self._received()
        local_day = received.astimezone(timezone(timedelta(hours=8))).strftime("%Y%m%d")
        c: dict[str, Any] = {k: None for k in CASE_COLUMNS}
        c.update(
            case_no=f"TZ{local_day}{self.seed % 100:02d}{i:07d}", received_at=received,
            channel=_pick(r, CHANNEL_SHARE), category=category, subcategory=sub,
            customer_name=r.choice(self.names), customer_phone=f"1{r.choice('3456789')}{r.randint(0, 999999999):09d}",
            handler=handler, team=team, description=self._text(desc), acceptance="accepted",
        )
        contacts: list[tuple[datetime, str, str]] = []
        if r.random() < 0.04:  # 7.1.2 out of scope
            c["acceptance"] = "rejected"
            c["rejection_reason"] = r.choice(["outside_business_scope", "outside_service_scope", "past_time_limit"]) if r.random() > 0.06 else None
            c["description"] = self._text("客户要求运营商处理{place}小区物业私拉网线问题。") if c["rejection_reason"] != "past_time_limit" else self._text("客户对两年前的{amount}元话费提出异议。")
            roll = r.random()
            if roll < 0.85:
                c["rejection_informed_at"] = received + timedelta(minutes=r.randint(10, 20 * 60))
            elif roll < 0.95:
                c["rejection_informed_at"] = received + timedelta(hours=r.uniform(25, 60))
            c["closed_at"] = (c["rejection_informed_at"] or received + 30 * H) + timedelta(minutes=r.randint(5, 120))
            c["decision"] = "经核实不属于受理范围，已向客户说明并建议通过相应途径解决。"
            c["survey_at"] = c["closed_at"] - timedelta(minutes=r.randint(1, 4)) if r.random() < 0.9 else None
            if c["survey_at"]:
                c["satisfaction"] = r.choices(["satisfied", "basically_satisfied", "dissatisfied"], [0.5, 0.35, 0.15])[0]
                if c["satisfaction"] == "dissatisfied":
                    c["dissatisfaction_cause"] = "客户认为应由运营商负责。" if r.random() < 0.8 else None
            self._archive(c)
            return self._cut(c, contacts)

        c["true_reason"] = self._text(reason) if r.random() > 0.03 else None
        c["customer_demand"] = demand if r.random() > 0.02 else None
        c["items_confirmed"] = r.random() > 0.04
        if r.random() > 0.03:
            c["promised_reply_at"] = received + r.choice([24, 24, 48]) * H
        first_delay = r.uniform(0.2, 20) if r.random() < 0.93 else r.uniform(24.2, 40)
        first = received + first_delay * H
        contacts.append((first, "first", r.choice(["phone", "phone", "sms"])))
        transferred = r.random() < 0.3
        if transferred:
            c["transferred_to"] = r.choice(DEPARTMENTS)
            c["event_restoration"] = c["description"] if r.random() > 0.05 else None
            c["existing_problem"] = problem if r.random() > 0.04 else None
            c["solution_measures"] = measure if r.random() > 0.04 else None
        long_running = r.random() < 0.07
        if long_running:
            declared = received + r.uniform(2, 40) * H if r.random() < 0.85 else received + r.uniform(50, 70) * H
            c["long_running_since"] = declared
            if r.random() < 0.4:
                c["progress_interval_hours"] = float(r.choice([24, 72]))
            interval = c["progress_interval_hours"] or 48
            t = declared
            for _ in range(r.randint(1, 5)):
                t = t + r.uniform(0.4, 0.95 if r.random() < 0.9 else 1.3) * interval * H
                contacts.append((t, "progress", "phone"))
            final = t + r.uniform(0.3, 0.9) * interval * H
        else:
            final_h = r.uniform(first_delay + 0.5, 47.5) if r.random() < 0.88 else r.uniform(49, 96)
            final = received + max(final_h, first_delay + 0.5) * H
        contacts.append((final, "final", "phone"))
        c["solution_measures"] = c["solution_measures"] or (measure if not transferred else None)
        if transferred and r.random() > 0.04:
            c["dept_solution"] = measure
        c["decision"] = decision if r.random() > 0.03 else None
        survey = final + r.uniform(0.5, 20) * H
        closed = survey + r.uniform(0.2, 12) * H
        roll = r.random()
        if roll < 0.04:
            survey = closed + r.uniform(1, 30) * H  # surveyed after closing
        if roll > 0.97:
            c["survey_at"] = None
        else:
            c["survey_at"] = survey
            contacts.append((survey, "survey", "phone"))
            c["satisfaction"] = r.choices(["satisfied", "basically_satisfied", "dissatisfied"], [0.78, 0.14, 0.08])[0]
        c["closed_at"] = closed
        if c["satisfaction"] == "dissatisfied":
            c["dissatisfaction_cause"] = "客户认为补偿力度不够，对处理时长不满。" if r.random() < 0.85 else None
            if r.random() < 0.35:
                c["demand_excessive"] = True
                if r.random() < 0.75:
                    c["alternatives"] = "赠送流量包；减免一个月功能费；优先安排专人跟进"
        self._archive(c)
        self._personal_details(c)
        if r.random() < 0.015:
            c["typical"] = True
            if r.random() < 0.9:
                c["typical_summary"] = f"{sub}类投诉：{c['true_reason'] or '原因待查'}处理要点是先核实事实、再给出可选方案。"
        return self._cut(c, contacts)

    def _archive(self, c: dict[str, Any]) -> None:
        r = self.rng
        roll = r.random()
        if roll < 0.9:
            c["archived_at"] = c["closed_at"] + r.uniform(2, 150) * H
        elif roll < 0.96:
            c["archived_at"] = c["closed_at"] + r.uniform(8, 20) * 24 * H

    def _cut(self, c: dict[str, Any], contacts: list[tuple[datetime, str, str]]):
        """Leave out everything planned after now: that is what makes recent cases open."""
        now = self.now
        for name in ("rejection_informed_at", "long_running_since", "survey_at", "closed_at", "archived_at"):
            if c[name] is not None:
                c[name] = c[name].replace(microsecond=0)
                if c[name] > now:
                    c[name] = None
        if c["closed_at"] is None:
            c["archived_at"] = None
            c["decision"] = None
            c["dept_solution"] = None
            c["typical"] = None
            c["typical_summary"] = None
        if c["survey_at"] is None:
            c["satisfaction"] = None
            c["dissatisfaction_cause"] = None
            c["demand_excessive"] = None
            c["alternatives"] = None
        rows = [{"case_no": c["case_no"], "contact_at": t.replace(microsecond=0), "kind": k, "channel": ch, "note": None}
                for t, k, ch in contacts if t <= now]
        return c, rows


def generate(n: int, seed: int, now: datetime, start: int = 0) -> tuple[list[dict], list[dict]]:
    gen = DemoGenerator(seed, now)
    cases, contacts = [], []
    for i in range(start, start + n):
        c, rows = gen.case(i)
        cases.append(c)
        contacts.extend(rows)
    return cases, contacts


SEED_CHUNK = 20_000  # cases generated, then written and evaluated, at a time


def _generate_chunks(out, n: int, seed_value: int, now: datetime, parent: int) -> None:
    """In a forked process: the demo cases of `seed`, chunk by chunk, sent down a pipe. One generator
    goes through them in order, so the data is exactly what `generate(n, seed_value, now)` gives."""
    from rules.evaluate import _worker_start

    _worker_start(parent)  # dies with the parent, holds none of its connections
    gen = DemoGenerator(seed_value, now)
    for start in range(0, n, SEED_CHUNK):
        cases, contacts = [], []
        for i in range(start, min(n, start + SEED_CHUNK)):
            c, rows = gen.case(i)
            cases.append(c)
            contacts.extend(rows)
        out.send((cases, contacts))
    out.close()


def seed(n: int, seed_value: int = 1, now: datetime | None = None, url: str | None = None,
         progress=None) -> tuple[int, int]:
    """Add N demo cases (existing case numbers from the same seed are updated) and evaluate them, in one
    transaction. Large seeds generate the next chunk of cases in a second process while this one writes
    and evaluates the previous (generating was a quarter of a 100k seed)."""
    now = now or clock.now_precise()
    if n <= SEED_CHUNK:
        chunks = iter([generate(n, seed_value, now)])
        child = None
    else:
        import multiprocessing
        import os

        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_generate_chunks, args=(send, n, seed_value, now, os.getpid()), daemon=True)
        child.start()  # before any database connection of this call exists
        send.close()
        chunks = (receive.recv() for _ in range(0, n, SEED_CHUNK))
    added = done = 0
    hours: Counter = Counter()  # hourly counts of all chunks, written once at the end
    try:
        with session_scope(url) as session:
            exclusive(session, "import")
            for cases, contacts in chunks:
                base = done

                def step(frac: float, base: int = base, size: int = len(cases)) -> None:
                    progress(base + int(frac * size), n)

                written = write_and_evaluate(session, cases, list(CASE_COLUMNS), contacts, now,
                                             step if progress else None, hours)
                added += written.contacts_added
                done += len(cases)
            write_hours(session, hours)
            refresh_statistics(session)
    finally:
        if child is not None:
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
    settle_after_bulk(url)
    return done, added
