"""The interchange vocabulary (../shared/spec/interchange.md): column names and enumerated values in English
and Chinese. Import, export, seed and the UI all read from here so the two languages cannot drift apart."""
from __future__ import annotations

# field -> (Chinese header, type, required)
CASE_COLUMNS: dict[str, tuple[str, str, bool]] = {
    "case_no": ("工单号", "text", True),
    "received_at": ("受理时间", "time", True),
    "channel": ("受理渠道", "channel", True),
    "category": ("投诉类别", "category", True),
    "subcategory": ("投诉子类", "text", False),
    "customer_name": ("客户姓名", "text", False),
    "customer_phone": ("联系电话", "text", False),
    "handler": ("处理人", "text", True),
    "team": ("处理班组", "text", False),
    "description": ("投诉内容", "text", False),
    "true_reason": ("真实原因", "text", False),
    "customer_demand": ("客户诉求", "text", False),
    "items_confirmed": ("事项已确认", "bool", False),
    "promised_reply_at": ("承诺回复时间", "time", False),
    "acceptance": ("受理结果", "acceptance", True),
    "rejection_reason": ("不予受理原因", "rejection_reason", False),
    "rejection_informed_at": ("不予受理告知时间", "time", False),
    "transferred_to": ("转派部门", "text", False),
    "event_restoration": ("事件还原", "text", False),
    "existing_problem": ("存在问题", "text", False),
    "solution_measures": ("解决措施", "text", False),
    "dept_solution": ("责任部门解决方案", "text", False),
    "long_running_since": ("长期处理开始时间", "time", False),
    "progress_interval_hours": ("约定进度告知间隔(小时)", "positive_number", False),
    "decision": ("处理决定", "text", False),
    "survey_at": ("满意度调查时间", "time", False),
    "satisfaction": ("满意度", "satisfaction", False),
    "dissatisfaction_cause": ("不满意原因", "text", False),
    "demand_excessive": ("诉求过高", "bool", False),
    "alternatives": ("替代方案", "list", False),
    "closed_at": ("办结时间", "time", False),
    "archived_at": ("归档时间", "time", False),
    "typical": ("典型案例", "bool", False),
    "typical_summary": ("案例特点与规律", "text", False),
}

CONTACT_COLUMNS: dict[str, tuple[str, str, bool]] = {
    "case_no": ("工单号", "text", True),
    "contact_at": ("联系时间", "time", True),
    "kind": ("联系类型", "contact_kind", True),
    "channel": ("联系方式", "contact_channel", False),
    "note": ("备注", "text", False),
}

# enumeration -> value -> Chinese label
ENUMS: dict[str, dict[str, str]] = {
    "channel": {"face_to_face": "面谈", "letter": "信函", "online": "网络", "phone": "电话"},
    "category": {"network": "网络", "business": "业务", "service": "服务"},
    "acceptance": {"accepted": "受理", "rejected": "不予受理"},
    "rejection_reason": {
        "outside_business_scope": "超出经营范围",
        "outside_service_scope": "超出服务范围",
        "past_time_limit": "超出服务时限",
    },
    "satisfaction": {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"},
    "contact_kind": {"first": "首次联系", "progress": "进度告知", "final": "最终结果答复", "survey": "满意度回访", "other": "其他"},
    "contact_channel": {"phone": "电话", "sms": "短信", "face_to_face": "面谈", "online": "网络", "letter": "信函"},
}

TRUE_WORDS = {"true", "1", "yes", "y", "是", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "f"}


def enum_lookup(kind: str) -> dict[str, str]:
    """Map every accepted spelling (English value, any case; Chinese label) to the English value."""
    table: dict[str, str] = {}
    for value, zh in ENUMS[kind].items():
        table[value] = value
        table[value.lower()] = value
        table[zh] = value
    return table


def label(kind: str, value: str | None, lang: str = "zh") -> str:
    if value is None:
        return ""
    if lang == "zh":
        return ENUMS.get(kind, {}).get(value, value)
    return value.replace("_", " ")
