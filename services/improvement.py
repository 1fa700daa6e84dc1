"""Tables for the improvement pages (10.2), in the reader's language; no Streamlit here."""
from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd

from domain.i18n import t
from domain.timeutil import fmt_local
from domain.vocab import label


def rates_frame(table: pd.DataFrame, by: str, lang: str) -> pd.DataFrame:
    """A rate table of domain.repeats.rate_table with headers in words (team/handler/category values kept)."""
    heading = {"category": t("search.category", lang), "team": t("col.team", lang),
               "handler": t("search.handler", lang)}[by]
    out = table.copy()
    if by == "category":
        out[by] = [label("category", v, lang) for v in out[by]]
    return out.rename(columns={by: heading, "cases": t("repeat.col.cases", lang), "repeats": t("repeat.col.repeats", lang),
                               "rate": t("repeat.col.rate", lang)})


def repeats_frame(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        t("repeat.col.case", lang): rows["case_no"],
        t("col.received", lang): [fmt_local(v.to_pydatetime()) for v in rows["received_at"]],
        t("search.category", lang): [label("category", v, lang) for v in rows["category"]],
        t("search.handler", lang): rows["handler"],
        t("repeat.col.previous", lang): rows["previous_no"],
        t("repeat.col.previous_handler", lang): rows["previous_handler"],
        t("repeat.col.gap", lang): rows["gap_days"].round(1),
    })


def problems_frame(rows: Sequence[dict[str, Any]], lang: str) -> pd.DataFrame:
    return pd.DataFrame([{
        t("capa.col.id", lang): r["id"], t("capa.title", lang): r["title"],
        t("capa.col.state", lang): t(f"capa.state.{r['state']}", lang),
        t("capa.owner", lang): r["owner"],
        t("capa.col.cause", lang): t(f"capa.cause.{r['cause_category'] or 'none'}", lang),
        t("capa.col.cases", lang): r["cases"], t("capa.col.open_actions", lang): r["open_actions"],
        t("capa.col.updated", lang): fmt_local(r["updated_at"]),
    } for r in rows], columns=[t(k, lang) for k in ("capa.col.id", "capa.title", "capa.col.state", "capa.owner",
                                                   "capa.col.cause", "capa.col.cases", "capa.col.open_actions",
                                                   "capa.col.updated")])


def actions_frame(rows: Sequence[dict[str, Any]], lang: str) -> pd.DataFrame:
    return pd.DataFrame([{
        t("capa.col.id", lang): a["id"], t("capa.action_kind", lang): t(f"capa.kind.{a['kind']}", lang),
        t("capa.action_text", lang): a["text"], t("capa.action_owner", lang): a["owner"],
        t("capa.action_due", lang): fmt_local(a["due_at"]), t("capa.action_state", lang): t(f"capa.astate.{a['state']}", lang),
        t("capa.evidence", lang): a["evidence"],
    } for a in rows])


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "∞"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return f"{value:.{digits}f}"


def checks_frame(rows: Sequence[dict[str, Any]], lang: str) -> pd.DataFrame:
    def rate(count: int, exposure: float, basis: str) -> str:
        if not exposure:
            return f"{count}"
        if basis == "day":
            return f"{count}（{count / exposure:.2f}/天）" if lang == "zh" else f"{count} ({count / exposure:.2f}/day)"
        return f"{count}（{count / exposure * 10000:.0f}/万件）" if lang == "zh" else f"{count} ({count / exposure * 10000:.0f} per 10k)"

    return pd.DataFrame([{
        t("capa.col.checked", lang): fmt_local(c["checked_at"]),
        t("capa.col.window", lang): f"{c['window_days']} · {t('capa.basis.' + c['basis'], lang)}",
        t("capa.col.before", lang): rate(c["before"], c["before_exposure"], c["basis"]),
        t("capa.col.after", lang): rate(c["after"], c["after_exposure"], c["basis"]),
        t("capa.col.ratio", lang): _num(c["ratio"]) if c["before"] or c["after"] else "—",
        t("capa.col.interval", lang): f"{_num(c['low'])} – {_num(c['high'])}" if c["p_value"] is not None else "—",
        t("capa.col.p", lang): f"{c['p_value']:.4f}" if c["p_value"] is not None else "—",
        t("capa.col.verdict", lang): t(f"capa.verdict.{c['verdict']}", lang),
    } for c in rows])


def split_case_numbers(text: str) -> list[str]:
    """Case numbers typed one per line or separated by commas, spaces or the Chinese comma."""
    for sep in ("，", "、", ",", ";", "；", "\n", "\t"):
        text = text.replace(sep, " ")
    return list(dict.fromkeys(p for p in text.split(" ") if p))


def register_xlsx(rows: Sequence[dict[str, Any]], actions: Sequence[dict[str, Any]], stamp: str, lang: str) -> bytes:
    """The problem list and every action, two sheets, for the monthly quality meeting's papers."""
    from services.board import export_xlsx

    listed = actions_frame(actions, lang)
    if actions:
        listed.insert(0, t("capa.title", lang), [a["problem"] for a in actions])
        listed.insert(0, t("capa.col.problem", lang), [a["problem_id"] for a in actions])
    return export_xlsx({t("capa.list_title", lang): problems_frame(rows, lang), t("capa.actions", lang): listed}, stamp)


MAX_PDF_ACTIONS = 8


def problem_pdf(p: dict[str, Any], generated: str) -> bytes:
    """One A4 page per problem for the monthly quality meeting (Chinese): state, analysis, actions, the latest
    effectiveness check. Free text is de-identified (it may quote a customer); only case numbers are listed."""
    from domain.deid import scrub_text
    from services.pdf import Doc

    zh = "zh"
    names = list(p.get("mask_names", []))
    doc = Doc(title=f"问题 #{p['id']}")
    doc.title(f"问题 #{p['id']}：{p['title']}", generated)
    scope = label("category", p["scope_category"], zh) if p["scope_category"] else "—"
    if p["scope_subcategories"]:
        scope += "（" + "、".join(p["scope_subcategories"]) + "）"
    doc.pairs([
        (t("capa.col.state", zh), t(f"capa.state.{p['state']}", zh)),
        (t("capa.owner", zh), p["owner"]),
        (t("capa.col.cause", zh), t(f"capa.cause.{p['cause_category'] or 'none'}", zh)),
        (t("capa.col.scope", zh), scope),
        (t("capa.col.cases", zh), f"{len(p['cases'])} 件 · " + "、".join(f"{team or '—'} {n}" for team, n in p["teams"][:5])),
        (t("capa.fixed_at", zh).split("（")[0], fmt_local(p["fixed_at"]) if p["fixed_at"] else "—"),
    ], key_width=32)
    doc.heading(t("capa.analysis", zh))
    doc.para(scrub_text(p["statement"], names) or "—")
    for i, why in enumerate(p["whys"]):
        doc.para(f"{t('capa.why', zh, n=i + 1)}：{scrub_text(why, names)}", 10)
    if p["root_cause"]:
        doc.para(f"{t('capa.root_cause', zh)}：{scrub_text(p['root_cause'], names)}", 10, bold=True)
    doc.heading(t("capa.actions", zh))
    shown = p["actions"][:MAX_PDF_ACTIONS]
    doc.table([t("capa.action_kind", zh), t("capa.action_text", zh), t("capa.action_owner", zh), t("capa.action_due", zh),
               t("capa.action_state", zh)],
              [[t(f"capa.kind.{a['kind']}", zh), scrub_text(a["text"], names)[:80], a["owner"], fmt_local(a["due_at"])[:10],
                t(f"capa.astate.{a['state']}", zh)] for a in shown], widths=[1.1, 3.6, 1.1, 1.2, 0.9])
    if len(p["actions"]) > len(shown):
        doc.para(t("capa.pdf_more", zh, n=len(p["actions"]) - len(shown)), 9)
    doc.heading(t("capa.checks", zh))
    if p["checks"]:
        c = checks_frame(p["checks"][:1], zh).iloc[0]
        doc.pairs([(str(k), str(v)) for k, v in c.items()], key_width=32)
    else:
        doc.para(t("capa.no_checks", zh))
    if p["close_reason"]:
        doc.para(t("capa.close_reason", zh, reason=scrub_text(p["close_reason"], names)), 10)
    return doc.bytes()


def cluster_title(c: dict[str, Any], lang: str) -> str:
    """A cluster's name, or its three first words until a manager names it."""
    return c["name"] or "、".join(c["terms"][:3]) or f"#{c['id']}"


def clusters_frame(rows: Sequence[dict[str, Any]], lang: str) -> pd.DataFrame:
    return pd.DataFrame([{
        t("clu.col.id", lang): r["id"], t("clu.col.name", lang): cluster_title(r, lang),
        t("search.category", lang): label("category", r["category"], lang), t("clu.col.size", lang): r["size"],
        t("clu.col.trend", lang): r["weekly"],
        t("clu.col.missed", lang): round(r["missed_share"] * 100, 1),
        t("clu.col.dissatisfied", lang): round(r["dissatisfied_share"] * 100, 1),
        t("clu.col.teams", lang): "、".join(f"{team or '—'} {n}" for team, n in r["teams"]),
        t("clu.col.pinned", lang): "✓" if r["pinned"] else "",
    } for r in rows])


def verification_detail(item: dict[str, Any], lang: str) -> str:
    d = dict(item["detail"])
    for key in ("category", "reads_like"):
        if key in d:
            d[key] = label("category", d[key], lang)
    if "kind" in d:
        d["kind"] = label("contact_kind", d["kind"], lang)
    if "satisfaction" in d:
        d["satisfaction"] = label("satisfaction", d["satisfaction"], lang)
    try:
        return t(f"verify.detail.{item['check']}", lang, **d)
    except KeyError:
        return ""


def verification_frame(rows: Sequence[dict[str, Any]], lang: str) -> pd.DataFrame:
    return pd.DataFrame([{
        t("verify.col.check", lang): t(f"verify.check.{r['check']}", lang), t("verify.col.key", lang): r["key"],
        t("verify.col.detail", lang): verification_detail(r, lang),
        t("verify.col.state", lang): t(f"verify.state.{r['state']}", lang),
        t("verify.col.found", lang): fmt_local(r["found_at"]), t("verify.col.decided", lang): r["decided_by"] or "",
        t("verify.col.note", lang): r["note"],
    } for r in rows])
