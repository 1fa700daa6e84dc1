"""Page logic that needs no Streamlit: turning query results into the tables and charts pages show."""
from __future__ import annotations

import json
import re

from collections import Counter
from datetime import datetime, timezone
from typing import Any, Sequence

import pandas as pd

from rules.catalogue import BY_ID, RULES
from rules.evaluate import evaluate, flags
from rules.explain import explain
from rules.thresholds import THRESHOLD_CLAUSES, Thresholds
from domain.i18n import catalogue, t
from domain.roles import ROLE_LABELS, role_label
from domain.scorecard import DEFAULT_ITEMS
from domain.privacy import mask_name, mask_phone
from domain.timeutil import fmt_local
from domain.vocab import CASE_COLUMNS, label

STATUS_ORDER = {"breached": 0, "at_risk": 1, "review": 2}


def search_table(rows: Sequence[dict[str, Any]], lang: str = "zh", unmasked: bool = False) -> pd.DataFrame:
    """Search results with personal data masked (the list never needs it in full)."""
    data = [{
        t("search.case_no", lang): r["case_no"],
        t("search.received", lang): fmt_local(r["received_at"]),
        t("search.category", lang): label("category", r["category"], lang),
        "子类" if lang == "zh" else "Subcategory": r["subcategory"] or "",
        t("search.handler", lang): r["handler"],
        t("col.team", lang): r["team"] or "",
        "客户" if lang == "zh" else "Customer": r["customer_name"] if unmasked else mask_name(r["customer_name"]),
        t("search.phone", lang): r["customer_phone"] if unmasked else mask_phone(r["customer_phone"]),
        t("search.status", lang): case_state_label(r, lang),
    } for r in rows]
    return pd.DataFrame(data)


def case_state_label(r: dict[str, Any], lang: str, now: datetime | None = None) -> str:
    if r.get("acceptance") == "rejected":
        return t("status.rejected", lang)
    closed = r.get("closed_at")
    if closed is not None and (now is None or closed <= now):
        return t("status.closed", lang)
    return t("status.open", lang)


ENUM_FIELDS = {"channel": "channel", "category": "category", "acceptance": "acceptance",
               "rejection_reason": "rejection_reason", "satisfaction": "satisfaction"}


# Free-text fields: read as text (wrapping blocks), never squeezed into a grid cell.
LONG_TEXT = ("description", "true_reason", "customer_demand", "event_restoration", "existing_problem",
             "solution_measures", "dept_solution", "decision", "dissatisfaction_cause", "alternatives",
             "typical_summary")


def case_texts(record: dict[str, Any], lang: str = "zh") -> list[tuple[str, str]]:
    """The case's free-text fields that have content, as (label, text)."""
    out = []
    for name in LONG_TEXT:
        value = record.get(name)
        if value is not None and str(value).strip():
            out.append((CASE_COLUMNS[name][0] if lang == "zh" else name, str(value)))
    return out


def case_fields(record: dict[str, Any], lang: str = "zh", skip: Sequence[str] = ()) -> list[dict[str, str]]:
    """Every interchange field of a case (but `skip`) as (label, shown value) rows, times in the local zone."""
    rows = []
    for name, (zh, kind, _req) in CASE_COLUMNS.items():
        if name in skip:
            continue
        value = record.get(name)
        if kind == "time":
            shown = fmt_local(value)
        elif kind == "bool":
            shown = "" if value is None else (("是" if value else "否") if lang == "zh" else ("yes" if value else "no"))
        elif name in ENUM_FIELDS:
            shown = label(ENUM_FIELDS[name], value, lang)
        else:
            shown = "" if value is None else str(value)
        rows.append({t("col.column", lang): zh if lang == "zh" else name, "值" if lang == "zh" else "Value": shown})
    return rows


def flow_stages(record: dict[str, Any], now: datetime, lang: str = "zh") -> list[dict[str, Any]]:
    """Where the case stands along Appendix A: each step with whether (and when) it happened as of now."""
    def seen(value: datetime | None) -> datetime | None:
        return value if value is not None and value <= now else None

    contacts = [c for c in record["contacts"] if c["contact_at"] <= now]
    final = next((c["contact_at"] for c in contacts if c["kind"] == "final"), None)
    steps: list[dict[str, Any]] = [{"step": t("flow.received", lang), "at": record["received_at"]}]
    if record["acceptance"] == "rejected":
        steps.append({"step": t("flow.rejected", lang), "at": seen(record["rejection_informed_at"])})
    else:
        recorded = bool(record.get("true_reason") and record.get("customer_demand"))
        steps.append({"step": t("flow.recorded", lang), "at": record["received_at"] if recorded else None})
        dept = record.get("transferred_to")
        handling = t("flow.transferred", lang, dept=dept) if dept else t("flow.direct", lang)
        steps.append({"step": handling, "at": contacts[0]["contact_at"] if contacts else None})
        steps.append({"step": t("flow.answered", lang), "at": final})
    steps.append({"step": t("flow.survey", lang), "at": seen(record["survey_at"])})
    steps.append({"step": t("flow.closed", lang), "at": seen(record["closed_at"])})
    steps.append({"step": t("flow.archived", lang), "at": seen(record["archived_at"])})
    for s in steps:
        s["done"] = s["at"] is not None
        s["when"] = fmt_local(s["at"])
    return steps


def timeline_frame(record: dict[str, Any], obligations: Sequence[dict[str, Any]], now: datetime,
                   lang: str = "zh") -> pd.DataFrame:
    """Points for the timeline chart: contacts and case events, plus the due time of every deadline."""
    rows = [{"time": record["received_at"], "event": t("flow.received", lang), "lane": t("col.event", lang)}]
    for c in record["contacts"]:
        if c["contact_at"] <= now:
            rows.append({"time": c["contact_at"], "event": label("contact_kind", c["kind"], lang),
                         "lane": t("detail.timeline", lang)})
    for name, key in (("closed_at", "flow.closed"), ("survey_at", "flow.survey"), ("archived_at", "flow.archived")):
        if record.get(name) is not None and record[name] <= now:
            rows.append({"time": record[name], "event": t(key, lang), "lane": t("col.event", lang)})
    for o in obligations:
        if o["due_at"] is not None:
            rule = BY_ID[o["rule_id"]]
            rows.append({"time": o["due_at"], "event": f"{rule.title_zh if lang == 'zh' else rule.title_en}{t('col.due', lang)}",
                         "lane": t("col.due", lang)})
    frame = pd.DataFrame(rows)
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(_zone_name()).dt.tz_localize(None)
    return frame


def _zone_name() -> str:
    from domain.config import local_zone

    return str(local_zone())


def _live_outcome(o: dict[str, Any]) -> str:
    if o["status"] == "breached" and o["outcome"] in ("pending", "at_risk"):
        return "missed"
    if o["status"] == "at_risk":
        return "at_risk"
    return o["outcome"]


SYSTEM_ACTORS = ("system", "demo-setup", "cli", "alerts")


def person(username: str | None, names: dict[str, str], lang: str = "zh") -> str:
    """Whom a stored account name stands for: the colleague's display name, a word for the product's own
    actors (the command line, the demo set-up), else the account name itself."""
    if not username:
        return "—"
    if username in names:
        return names[username]
    if username in SYSTEM_ACTORS:
        return t(f"who.{username}", lang)
    return username


def field_label(field: str, lang: str = "zh") -> str:
    """A case field as people call it (the Chinese column name of the interchange table)."""
    if field in CASE_COLUMNS:
        return CASE_COLUMNS[field][0] if lang == "zh" else field.replace("_", " ")
    return field


def scorecard_editor_frame(items: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A scorecard's items for the editor: rules and fields as lists (shown as chips by their names)."""
    return pd.DataFrame([{**i, "rules": list(i.get("rules") or []), "fields": list(i.get("fields") or [])}
                         for i in items], columns=["key", "clause", "title_zh", "title_en", "weight", "critical",
                                                   "rules", "fields"])


def scorecard_view(items: Sequence[dict[str, Any]], lang: str = "zh") -> pd.DataFrame:
    """A scorecard as an inspector reads it: clause, title in her language, weight, and what the engine
    judges it by (rule titles, field names)."""
    return pd.DataFrame([{
        t("qa.col.clause", lang): i["clause"],
        t("qa.col.item_key", lang): i["title_zh"] if lang == "zh" else i["title_en"],
        t("qa.sc.weight", lang): float(i["weight"]),
        t("qa.critical", lang): "✓" if i.get("critical") else "",
        t("qa.sc.rules", lang): "、".join(rule_title(r, lang) for r in i.get("rules") or []) or t("qa.sc.by_inspector", lang),
        t("qa.sc.fields", lang): "、".join(field_label(f, lang) for f in i.get("fields") or []),
    } for i in items])


def coaching_state(row: dict[str, Any], now: datetime) -> str:
    """Where a coaching stands: waiting for the handler, under way, due for its follow-up, or closed."""
    if row["closed_at"] is not None:
        return "closed"
    if row["acknowledged_at"] is None:
        return "waiting"
    return "follow_up" if now >= row["follow_up_at"] else "under_way"


def stratum_word(stratum: str | None, lang: str = "zh") -> str:
    """Risk strata by their meaning; stratified strata are team/handler names already; none is a dash."""
    if stratum in ("flagged", "unflagged"):
        return t(f"qa.stratum.{stratum}", lang)
    return stratum or "—"


def rule_title(rule_id: str, lang: str = "zh") -> str:
    """A rule as people call it (its title), never its id."""
    rule = BY_ID.get(rule_id)
    if rule is None:
        return rule_id
    return rule.title_zh if lang == "zh" else rule.title_en


def flag_detail(o: dict[str, Any], now: datetime, lang: str = "zh") -> str:
    """The plain-language detail of one stored obligation (with its live status) as of `now`."""
    return explain(o["rule_id"], _live_outcome(o), o["due_at"], o["fulfilled_at"], o["evidence"], now, lang)


def flags_table(obligations: Sequence[dict[str, Any]], now: datetime, lang: str = "zh",
                only_flags: bool = True) -> pd.DataFrame:
    rows = []
    for o in sorted(obligations, key=lambda o: (STATUS_ORDER.get(o["status"] or "", 9), o["rule_id"])):
        if only_flags and not o["status"]:
            continue
        rule = BY_ID[o["rule_id"]]
        status = o["status"]
        rows.append({
            t("col.rule", lang): rule.title_zh if lang == "zh" else rule.title_en,
            t("col.clause", lang): o["clause"],
            t("col.status", lang): t(f"status.{status}", lang) if status else t(f"state.{o['state']}", lang),
            t("col.due", lang): fmt_local(o["due_at"]),
            t("col.detail", lang): flag_detail(o, now, lang),
            t("col.explain", lang): rule.explain_zh if lang == "zh" else rule.explain_en,
        })
    return pd.DataFrame(rows)


def rules_table(counts: dict[str, dict[str, int]], th: Thresholds, lang: str = "zh") -> pd.DataFrame:
    values = th.as_dict()
    rows = []
    for r in RULES:
        c = counts.get(r.id, {})
        rows.append({
            t("col.clause", lang): r.clause,
            t("col.rule", lang): r.title_zh if lang == "zh" else r.title_en,
            t("rules.thresholds", lang): f"{t('th.' + r.threshold, lang)} = {values[r.threshold]:g}" if r.threshold else "",
            t("rules.applies", lang): c.get("applies", 0),
            t("rules.breached_now", lang): c.get("breached", 0),
            t("rules.at_risk_now", lang): c.get("at_risk", 0),
            t("rules.review_now", lang): c.get("review", 0),
            # deadlines: fulfilled on time; checks: applied and raised nothing (never a stored "met")
            t("rules.met", lang): c.get("passed", 0) if r.kind == "check" else c.get("met", 0),
            t("col.explain", lang): r.explain_zh if lang == "zh" else r.explain_en,
        })
    return pd.DataFrame(rows)


def flag_counts(cases: Sequence[dict], now: datetime, th: Thresholds) -> Counter:
    return Counter((f.rule_id, f.status) for f in flags(evaluate(cases, now, th)))


def whatif(cases: Sequence[dict], now: datetime, current: Thresholds, trial: Thresholds,
           lang: str = "zh") -> pd.DataFrame:
    """How many flags each rule raises on `cases` with the current and with the trial thresholds."""
    before, after = flag_counts(cases, now, current), flag_counts(cases, now, trial)
    rows = []
    for r in RULES:
        for status in ("breached", "at_risk", "review"):
            b, a = before.get((r.id, status), 0), after.get((r.id, status), 0)
            if a or b:
                rows.append({t("col.rule", lang): r.title_zh if lang == "zh" else r.title_en,
                             t("col.status", lang): t(f"status.{status}", lang),
                             t("rules.current", lang): b, t("rules.trial", lang): a,
                             t("rules.change", lang): a - b})
    return pd.DataFrame(rows)


def threshold_rows(th: Thresholds, lang: str = "zh") -> list[tuple[str, str, float, str]]:
    return [(name, t(f"th.{name}", lang), value, THRESHOLD_CLAUSES[name]) for name, value in th.as_dict().items()]


def dry_changes_table(report: Any, lang: str = "zh") -> pd.DataFrame:
    """A dry run's changed cases with the fields that would change, by their names."""
    return pd.DataFrame([{t("board.case", lang): case_no,
                          t("import.col.fields", lang): "、".join(field_label(f, lang) for f in fields)}
                         for case_no, fields in sorted(report.changed_fields.items())])


def dry_flags_table(report: Any, lang: str = "zh") -> pd.DataFrame:
    """A dry run's flags that would appear or clear, in words."""
    rows = [(t("import.flag.appear", lang), f) for f in report.flags_appear] + \
        [(t("import.flag.clear", lang), f) for f in report.flags_clear]
    return pd.DataFrame([{t("import.col.change", lang): change, t("board.case", lang): case_no,
                          t("col.rule", lang): rule_title(rule_id, lang), t("col.status", lang): t(f"status.{status}", lang)}
                         for change, (case_no, rule_id, status) in rows])


def problems_table(problems: Sequence[Any], lang: str = "zh") -> pd.DataFrame:
    return pd.DataFrame([{t("col.file", lang): p.file, t("col.line", lang): p.line,
                          t("col.column", lang): p.column, t("col.reason", lang): p.text(lang)} for p in problems])


_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


_ITEM_TITLES = {i["key"]: (i["title_zh"], i["title_en"]) for i in DEFAULT_ITEMS}
_ENUM_FIELDS = {"role": None, "kind": "contact_kind", "channel": "channel", "rejection_reason": "rejection_reason"}


def _word(prefix: str, code: str, lang: str) -> str:
    """A stored code in words: the catalogue's `prefix.code`, else the code itself (never a crash)."""
    key = f"{prefix}.{code}"
    return t(key, lang) if key in catalogue(lang) else code


def _audit_field(name: str, lang: str) -> str:
    if f"audit.field.{name}" in catalogue(lang):
        return t(f"audit.field.{name}", lang)
    if f"th.{name}" in catalogue(lang):
        return t(f"th.{name}", lang)
    if name in _ITEM_TITLES:
        return _ITEM_TITLES[name][0 if lang == "zh" else 1]
    return name


def _audit_value(value: Any, lang: str = "zh", field: str = "") -> str:
    if isinstance(value, str) and _INSTANT.match(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return fmt_local(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    if isinstance(value, str) and field == "role" and value in ROLE_LABELS:
        return role_label(value, lang)
    if isinstance(value, str) and field == "rule_id":
        return rule_title(value, lang)
    if isinstance(value, str) and field == "purpose" and f"qa.purpose.{value}" in catalogue(lang):
        return t(f"qa.purpose.{value}", lang)
    if isinstance(value, str) and field in ("kind", "method") and f"qa.method.{value}" in catalogue(lang):
        return t(f"qa.method.{value}", lang)  # a sampling method (a contact's kind is an enumeration)
    if isinstance(value, str) and field == "strata":
        return _audit_field(value, lang)
    if isinstance(value, str) and _ENUM_FIELDS.get(field):
        return label(_ENUM_FIELDS[field], value, lang)
    if isinstance(value, str) and value in ("pass", "fail", "na"):
        return t(f"qa.verdict.{value}", lang)
    if isinstance(value, dict):
        return "（" + "，".join(f"{_audit_field(k, lang)}: {_audit_value(v, lang, k)}" for k, v in value.items()) + "）"
    if isinstance(value, list):
        return "、".join(_audit_value(v, lang, field) for v in value)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return "" if value is None else str(value)


def audit_change(text: str | None, lang: str = "zh") -> str:
    """A stored before/after value as people read it: `field: value` pairs in words, instants in local
    time, roles, verdicts and enumerations by their names."""
    if not text:
        return ""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    if isinstance(data, dict):
        return "；".join(f"{_audit_field(k, lang)}: {_audit_value(v, lang, k)}" for k, v in data.items())
    return _audit_value(data, lang)


def audit_actions(lang: str = "zh") -> list[str]:
    """Every action the audit trail knows a word for, in the order of those words."""
    prefix = "audit.act."
    codes = [k[len(prefix):] for k in catalogue(lang) if k.startswith(prefix)]
    return sorted(codes, key=lambda c: t(prefix + c, lang))


def audit_frame(rows: Sequence[dict[str, Any]], names: dict[str, str], lang: str = "zh") -> pd.DataFrame:
    """The audit trail with headers, actions and people in words (account names only where no person has
    that account, e.g. 'cli')."""
    return pd.DataFrame([{
        t("col.time", lang): fmt_local(r["at"], seconds=True),
        t("audit.actor", lang): person(r["actor"], names, lang),
        t("audit.action", lang): _word("audit.act", r["action"], lang),
        t("audit.col.entity", lang): " ".join(x for x in (_word("audit.entity", r["entity"], lang) if r["entity"] else "",
                                                          r["key"]) if x),
        t("audit.col.before", lang): audit_change(r["before"], lang),
        t("audit.col.after", lang): audit_change(r["after"], lang),
    } for r in rows])
