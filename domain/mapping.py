"""The mapping assistant (#21 item 2): from an unknown export's headers and values, a proposed profile.

    proposal = propose(headers, columns_of_text, kind="cases")
    profile = proposal.profile("省客服系统", layout_options)

Each source column is matched to a field by its header (Chinese and English names that work-order systems
use, the longest match winning, so 承诺回复时间 is the promised reply and not a reply), then by its values
when the header says nothing (11-digit mobiles are the customer's phone). Time columns are tried against
ISO 8601, Excel day numbers and the usual patterns; a date column and a time column of the same event are
joined. Enumerated columns get a value map from the words their values contain (营业厅 → face to face,
不予受理 → rejected); values it cannot place are listed for the user, never guessed at random. Time columns
of the case file that name a contact (首次联系时间, 回复时间 …) become contacts of that kind.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from domain.i18n import Said
from domain.importprofile import TIME_PATTERNS, ContactColumn, Layout, Profile, Source, excel_day, read_time
from domain.timeutil import TimeParseError, parse_instant
from domain.vocab import CASE_COLUMNS, CONTACT_COLUMNS, ENUMS, FALSE_WORDS, TRUE_WORDS, enum_lookup

NONE = ""  # target: the column is not imported
CONTACT_KINDS = ("first", "progress", "final", "survey", "other")
MAX_DISTINCT = 60  # values listed per enumerated column
TEXT_JOINER = "；"

# field -> names work-order systems give it (compared without spaces, brackets or punctuation, lower case)
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "case_no": ("工单号", "工单编号", "投诉单号", "工单流水号", "流水号", "受理单号", "投诉编号", "单号", "ticketid",
                "ticketno", "ticket", "caseno", "caseid", "case", "orderno"),
    "received_at": ("受理时间", "受理日期", "受理时刻", "建单时间", "创建时间", "登记时间", "投诉时间", "申告时间",
                    "来电时间", "opened", "created", "createdat", "received", "receivedat", "opendate"),
    "channel": ("受理渠道", "投诉渠道", "来源渠道", "渠道", "来源", "受理方式", "投诉方式", "source", "channel", "origin"),
    "category": ("投诉类别", "投诉分类", "一级分类", "类别", "分类", "投诉类型", "业务类型", "category", "type"),
    "subcategory": ("投诉子类", "二级分类", "子类", "细类", "投诉小类", "subcategory", "subtype"),
    "customer_name": ("客户姓名", "客户名称", "用户姓名", "用户名称", "姓名", "客户", "联系人", "customer",
                      "customername", "caller"),
    "customer_phone": ("联系电话", "联系号码", "用户号码", "客户号码", "手机号码", "手机号", "受理号码", "主叫号码",
                       "投诉号码", "phone", "mobile", "msisdn", "telephone", "contactnumber"),
    "handler": ("处理人", "处理人员", "责任人", "经办人", "承办人", "处理工号", "assignee", "handler", "owner", "agent"),
    "team": ("处理班组", "所属班组", "班组", "处理部门", "处理组", "group", "team", "assignmentgroup"),
    "description": ("投诉内容", "投诉描述", "问题描述", "补充描述", "补充说明", "详细描述", "投诉详情", "summary",
                    "description", "details"),
    "true_reason": ("真实原因", "核实原因", "原因分析", "投诉原因", "rootcause", "cause"),
    "customer_demand": ("客户诉求", "客户要求", "用户诉求", "用户要求", "诉求", "request", "demand"),
    "items_confirmed": ("事项已确认", "是否确认", "核实", "已确认", "confirmed"),
    "promised_reply_at": ("承诺回复时间", "约定回复时间", "约定回复", "承诺时间", "promisedue", "promisedby", "promise",
                          "duedate"),
    "acceptance": ("受理结果", "受理状态", "是否受理", "受理", "accepted", "acceptance"),
    "rejection_reason": ("不予受理原因", "不受理原因", "拒绝原因", "rejectreason", "rejectionreason"),
    "rejection_informed_at": ("不予受理告知时间", "不受理告知", "告知时间", "rejectiontold", "rejectioninformed"),
    "transferred_to": ("转派部门", "转派", "transferredto"),
    "event_restoration": ("事件还原",),
    "existing_problem": ("存在问题",),
    "solution_measures": ("解决措施", "处理措施", "solution"),
    "dept_solution": ("责任部门解决方案", "部门方案"),
    "long_running_since": ("长期处理开始时间", "转长期时间"),
    "progress_interval_hours": ("约定进度告知间隔", "进度间隔"),
    "decision": ("处理决定", "处理结果", "decision", "resolutionnote"),
    "survey_at": ("满意度调查时间", "回访时间", "调查时间", "survey", "surveyat", "surveydate"),
    "satisfaction": ("满意度", "回访结果", "评价", "csat", "satisfaction"),
    "dissatisfaction_cause": ("不满意原因", "csatcomment", "dissatisfactioncause"),
    "demand_excessive": ("诉求过高",),
    "alternatives": ("替代方案", "alternatives"),
    "closed_at": ("办结时间", "结案时间", "归档前办结时间", "关闭时间", "完成时间", "resolved", "closed", "closedat"),
    "archived_at": ("归档时间", "archived"),
    "typical": ("典型案例",),
    "typical_summary": ("案例特点与规律",),
    "contact:first": ("首次联系时间", "首联时间", "首次回复时间", "首次响应时间", "首次处理时间", "firstcontact",
                      "firstresponse"),
    "contact:progress": ("进度告知时间", "中间进度时间", "进度反馈时间", "跟进时间", "progressupdate"),
    "contact:final": ("回复时间", "答复时间", "结果答复时间", "最终答复时间", "回单时间", "finalreply", "resolutiontime"),
    "note:first": ("首次联系说明", "首次响应说明", "首联说明"),
}
CONTACT_HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "case_no": HEADER_WORDS["case_no"],
    "contact_at": ("联系时间", "时间", "日期", "when", "time", "date", "contactat"),
    "kind": ("联系类型", "类型", "类别", "type", "kind"),
    "channel": ("联系方式", "方式", "渠道", "via", "channel", "medium"),
    "note": ("备注", "说明", "内容", "memo", "note", "notes", "comment"),
}
# enumeration -> (word the value contains, product value), tried in order (the more specific first)
VALUE_WORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "channel": (("网上", "online"), ("掌厅", "online"), ("app", "online"), ("web", "online"), ("online", "online"),
                ("微信", "online"), ("在线", "online"), ("网络", "online"), ("热线", "phone"), ("10086", "phone"),
                ("电话", "phone"), ("来电", "phone"), ("hotline", "phone"), ("phone", "phone"), ("call", "phone"),
                ("信", "letter"), ("mail", "letter"), ("letter", "letter"), ("营业厅", "face_to_face"),
                ("柜台", "face_to_face"), ("厅", "face_to_face"), ("面", "face_to_face"), ("上门", "face_to_face"),
                ("store", "face_to_face"), ("visit", "face_to_face"), ("walk", "face_to_face")),
    "category": (("网络", "network"), ("信号", "network"), ("net", "network"), ("业务", "business"),
                 ("资费", "business"), ("计费", "business"), ("套餐", "business"), ("biz", "business"),
                 ("bill", "business"), ("服务", "service"), ("态度", "service"), ("svc", "service"),
                 ("serv", "service")),
    "acceptance": (("不予", "rejected"), ("不受理", "rejected"), ("拒", "rejected"), ("reject", "rejected"),
                   ("no", "rejected"), ("否", "rejected"), ("受理", "accepted"), ("accept", "accepted"),
                   ("yes", "accepted"), ("是", "accepted")),
    "rejection_reason": (("经营", "outside_business_scope"), ("业务", "outside_business_scope"),
                         ("business", "outside_business_scope"), ("服务", "outside_service_scope"),
                         ("service", "outside_service_scope"), ("时限", "past_time_limit"),
                         ("超时", "past_time_limit"), ("过期", "past_time_limit"), ("time", "past_time_limit")),
    "satisfaction": (("不满意", "dissatisfied"), ("差", "dissatisfied"), ("dissatisf", "dissatisfied"),
                     ("unsatisf", "dissatisfied"), ("基本", "basically_satisfied"), ("一般", "basically_satisfied"),
                     ("basically", "basically_satisfied"), ("满意", "satisfied"), ("satisf", "satisfied")),
    "contact_kind": (("首", "first"), ("initial", "first"), ("first", "first"), ("进度", "progress"),
                     ("跟进", "progress"), ("update", "progress"), ("progress", "progress"), ("回访", "survey"),
                     ("调查", "survey"), ("survey", "survey"), ("答复", "final"), ("回复", "final"),
                     ("结果", "final"), ("resolution", "final"), ("final", "final"), ("其他", "other"),
                     ("other", "other")),
    "contact_channel": (("短信", "sms"), ("sms", "sms"), ("text", "sms"), ("电话", "phone"), ("call", "phone"),
                        ("phone", "phone"), ("来电", "phone"), ("面", "face_to_face"), ("上门", "face_to_face"),
                        ("visit", "face_to_face"), ("微信", "online"), ("网", "online"), ("online", "online"),
                        ("web", "online"), ("信", "letter"), ("mail", "letter"), ("letter", "letter")),
}
BOOL_WORDS = (("未", "false"), ("不", "false"), ("否", "false"), ("无", "false"), ("×", "false"),
              ("确认", "true"), ("是", "true"), ("有", "true"), ("√", "true"), ("✓", "true"))
_PUNCT = re.compile(r"[\s()（）\[\]【】:：_\-/\\.,，、·]+")
_MOBILE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")
_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
_DATE_ONLY = re.compile(r"^\d{4}\D\d{1,2}\D\d{1,2}\D?$")


def norm(header: str) -> str:
    return _PUNCT.sub("", str(header)).lower()


def _score(header: str, words: Sequence[str]) -> int:
    h = norm(header)
    best = 0
    for w in words:
        if h == w:
            best = max(best, 1000 + len(w))
        elif w in h:
            best = max(best, 10 * len(w))
    return best


def field_type(target: str, kind: str = "cases") -> str:
    if target.startswith(("contact:",)):
        return "time"
    if target.startswith("note:"):
        return "text"
    columns = CASE_COLUMNS if kind == "cases" else CONTACT_COLUMNS
    return columns[target][1] if target in columns else ""


@dataclass
class Proposal:
    kind: str
    headers: list[str]
    samples: dict[str, list[str]]  # header -> first distinct non-empty values
    targets: dict[str, str]  # header -> field, "contact:<kind>", "note:<kind>" or "" (not imported)
    reasons: dict[str, Said]
    time_formats: list[str] = field(default_factory=list)
    excel_serial: bool = False
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> file's value -> product value
    unknown_values: dict[str, list[str]] = field(default_factory=dict)
    distinct: dict[str, list[str]] = field(default_factory=dict)  # field -> every value of its column(s)

    def sources(self) -> dict[str, Source]:
        """Field -> source, joining the columns that share a field in the file's order."""
        grouped: dict[str, list[str]] = {}
        for h in self.headers:
            t = self.targets.get(h, NONE)
            if t and not t.startswith(("contact:", "note:")):
                grouped.setdefault(t, []).append(h)
        out = {}
        for f, cols in grouped.items():
            joiner = " " if field_type(f, self.kind) == "time" else ("-" if f == "case_no" else TEXT_JOINER)
            out[f] = Source(columns=tuple(cols), joiner=joiner)
        return out

    def contact_columns(self, channel: str | None = "phone") -> list[ContactColumn]:
        notes = {t.split(":", 1)[1]: h for h, t in self.targets.items() if t.startswith("note:")}
        out = []
        for h in self.headers:
            t = self.targets.get(h, NONE)
            if t.startswith("contact:"):
                k = t.split(":", 1)[1]
                out.append(ContactColumn(kind=k, at=h, channel=channel, note=notes.get(k)))
        return out

    def missing(self) -> list[str]:
        columns = CASE_COLUMNS if self.kind == "cases" else CONTACT_COLUMNS
        have = set(self.sources())
        return [f for f, (_zh, _t, req) in columns.items() if req and f not in have]


def _distinct(values: Sequence[str], limit: int) -> list[str]:
    out: list[str] = []
    for v in values:
        v = str(v).strip()
        if v and v not in out:
            out.append(v)
            if len(out) >= limit:
                break
    return out


def _looks_time(samples: Sequence[str]) -> bool:
    if not samples:
        return False
    return all(_time_pattern(s) is not None for s in samples[:10])


def _time_pattern(text: str) -> str | None:
    """'' for ISO 8601, 'excel' for a day number, else the first pattern that reads it; None if none."""
    try:
        parse_instant(text)
        return ""
    except TimeParseError:
        pass
    if excel_day(text) is not None:
        return "excel"
    for p in TIME_PATTERNS:
        if read_time(text, (p,), False) is not None:
            return p
    return None


def guess_value(enum: str, value: str) -> str | None:
    """The product value a file's spelling stands for, or None when its words say nothing certain."""
    low = value.strip().lower()
    if enum == "bool":
        if low in TRUE_WORDS:
            return "true"
        if low in FALSE_WORDS:
            return "false"
        for word, v in BOOL_WORDS:
            if word in low:
                return v
        return None
    known = enum_lookup(enum)
    if value in known or low in known:
        return known.get(value) or known[low]
    for word, v in VALUE_WORDS.get(enum, ()):
        if word.isascii() and len(word) <= 3:
            if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", low):  # "no" is a word, not part of "note"
                return v
        elif word in low:
            return v
    return None


def _value_maps(p: Proposal, columns_of: dict[str, list[str]]) -> None:
    types = CASE_COLUMNS if p.kind == "cases" else CONTACT_COLUMNS
    for f, src in p.sources().items():
        enum = types[f][1]
        if enum not in ENUMS and enum != "bool":
            continue
        values = _distinct([v for c in src.columns for v in columns_of[c]], MAX_DISTINCT)
        p.distinct[f] = values
        if enum == "satisfaction" and values and set(values) <= {"1", "2", "3"}:  # a three-point score
            p.values[f] = {v: {"3": "satisfied", "2": "basically_satisfied", "1": "dissatisfied"}[v] for v in values}
            continue
        table: dict[str, str] = {}
        unknown: list[str] = []
        canonical = enum_lookup(enum) if enum in ENUMS else {}
        for v in values:
            if enum != "bool" and (v in canonical or v.lower() in canonical):
                continue  # the reader takes the product's own spellings as they are
            if enum == "bool" and (v.lower() in TRUE_WORDS or v.lower() in FALSE_WORDS):
                continue
            guess = guess_value(enum, v)
            if guess is None:
                unknown.append(v)
            else:
                table[v] = guess
        if table:
            p.values[f] = table
        if unknown:
            p.unknown_values[f] = unknown


def propose(headers: Sequence[str], columns_of: dict[str, list[str]], kind: str = "cases") -> Proposal:
    """A proposed mapping of the file's columns (`columns_of`: header -> every cell as text)."""
    words = HEADER_WORDS if kind == "cases" else CONTACT_HEADER_WORDS
    headers = [str(h) for h in headers]
    samples = {h: _distinct(columns_of[h], 3) for h in headers}
    targets: dict[str, str] = {}
    reasons: dict[str, Said] = {}
    scored: list[tuple[int, str, str]] = []
    for h in headers:
        best, target = 0, NONE
        for f, ws in words.items():
            s = _score(h, ws)
            if s > best:
                best, target = s, f
        if target:
            scored.append((best, h, target))
    taken: dict[str, list[str]] = {}
    for score, h, target in sorted(scored, key=lambda x: -x[0]):
        ftype = field_type(target, kind)
        have = taken.get(target, [])
        if have and ftype == "time":
            # a date column and a time column of the same event are joined; anything else is one too many
            others = [samples[x][:1] for x in have]
            mine = samples[h][:1]
            pair = len(have) == 1 and mine and others[0] and (
                (_TIME_ONLY.match(mine[0]) and _DATE_ONLY.match(others[0][0].replace("年", "-").replace("月", "-")
                                                                .replace("日", "")))
                or (_DATE_ONLY.match(mine[0].replace("年", "-").replace("月", "-").replace("日", ""))
                    and _TIME_ONLY.match(others[0][0])))
            if not pair:
                reasons[h] = Said("map.taken", other=have[0])
                continue
        elif have and (ftype not in ("text",) or target in ("case_no", "handler", "team", "customer_name",
                                                             "customer_phone") or target.startswith("note:")):
            reasons[h] = Said("map.taken", other=have[0])
            continue
        targets[h] = target
        taken.setdefault(target, []).append(h)
        reasons[h] = Said("map.by_name")
    # columns whose name says nothing: what their values look like
    for h in headers:
        if h in targets:
            continue
        vals = samples[h]
        if vals and all(_MOBILE.match(v.replace(" ", "").replace("-", "")) for v in vals) \
                and "customer_phone" not in taken and kind == "cases":
            targets[h] = "customer_phone"
            taken["customer_phone"] = [h]
            reasons[h] = Said("map.by_values_phone")
        else:
            targets.setdefault(h, NONE)
            reasons.setdefault(h, Said("map.none"))
    p = Proposal(kind=kind, headers=headers, samples=samples, targets=targets, reasons=reasons)
    refine(p, columns_of)
    return p


def refine(p: Proposal, columns_of: dict[str, list[str]]) -> Proposal:
    """Time patterns and value maps for the proposal's current targets (again after the user changed
    them): every time column's values as they will be read, every enumerated column's distinct values."""
    needed: list[str] = []
    excel = False
    time_values: list[str] = []
    for f, src in p.sources().items():
        if field_type(f, p.kind) == "time":
            parts = [columns_of[c] for c in src.columns]
            time_values += [src.joiner.join(str(x).strip() for x in row if str(x).strip()) for row in zip(*parts)]
    for h in p.headers:
        if p.targets.get(h, NONE).startswith("contact:"):
            time_values += columns_of[h]
    for text in time_values:
        text = str(text).strip()
        if not text:
            continue
        found = _time_pattern(text)
        if found == "excel":
            excel = True
        elif found and found not in needed:
            needed.append(found)
    p.time_formats, p.excel_serial = needed, excel
    p.values, p.unknown_values, p.distinct = {}, {}, {}
    _value_maps(p, columns_of)
    return p


def profile_from(p: Proposal, name: str, layout: Layout, *, zone: str = "Asia/Shanghai",
                 contacts: Proposal | None = None, contacts_layout: Layout | None = None,
                 contact_channel: str | None = "phone", description: str = "") -> Profile:
    """The profile the (possibly corrected) proposal describes; `domain.importprofile.from_dict` of its
    document checks it as it checks a YAML file."""
    from domain.importprofile import from_dict, to_dict

    cases = Layout(fields=p.sources(), values={k: v for k, v in p.values.items() if v}, separator=layout.separator,
                   encoding=layout.encoding, header_row=layout.header_row, sheet=layout.sheet)
    formats = list(p.time_formats)
    excel = p.excel_serial
    mode, contact_layout, columns = "none", None, ()
    if contacts is not None:
        mode = "file"
        base = contacts_layout or Layout()
        contact_layout = Layout(fields=contacts.sources(), values={k: v for k, v in contacts.values.items() if v},
                                separator=base.separator, encoding=base.encoding, header_row=base.header_row,
                                sheet=base.sheet)
        formats += [f for f in contacts.time_formats if f not in formats]
        excel = excel or contacts.excel_serial
    elif p.contact_columns(contact_channel):
        mode, columns = "columns", tuple(p.contact_columns(contact_channel))
    draft = Profile(name=name, cases=cases, description=description, time_formats=tuple(formats),
                    excel_serial=excel, zone=zone, contacts_mode=mode, contacts=contact_layout,
                    contact_columns=columns)
    return from_dict(to_dict(draft))
