"""Repeat complaints (10.2): the customer keys behind them and the figures a manager reads.

Keys are made lazily: every read first keys the cases that have none yet, or whose row changed after they
were keyed (an edited phone number: the key remembers the row's updated_at), and rebuilds all of them when the secret changed (the secret's
fingerprint is kept in settings; the secret itself is not).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

import pandas as pd
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.audit import record
from db.models import Case, CaseCluster, CustomerKey, Handler, Setting, Team
from domain.config import customer_key_secret
from domain.repeats import DEFAULT_WINDOW_DAYS, SCOPES, check_window, customer_key, key_id, mark_repeats, rate_table
from domain.roles import require

KEY_ID_SETTING = "customer_key_id"
WINDOW_SETTING = "repeat_window_days"
SCOPE_SETTING = "repeat_scope"
_BATCH = 5000


def refresh_keys(session: Session, secret: bytes | None = None) -> int:
    """Key every case that needs it; returns how many were (re)keyed."""
    secret = secret or customer_key_secret()
    fingerprint = key_id(secret)
    stored = session.get(Setting, KEY_ID_SETTING)
    if stored is None or stored.value != fingerprint:
        session.execute(delete(CustomerKey))
        if stored is None:
            session.add(Setting(key=KEY_ID_SETTING, value=fingerprint))
        else:
            stored.value = fingerprint
        session.flush()
    # keyed_at holds the case's updated_at when it was keyed: a different one means the row changed since
    stale = (select(Case.id, Case.customer_phone, Case.updated_at)
             .outerjoin(CustomerKey, CustomerKey.case_id == Case.id)
             .where(or_(CustomerKey.case_id.is_(None), Case.updated_at != CustomerKey.keyed_at)))
    rows = session.execute(stale).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    payload = [{"case_id": r.id, "customer_key": customer_key(r.customer_phone, secret), "keyed_at": r.updated_at} for r in rows]
    try:
        with session.begin_nested():  # two readers keying the same new cases at once: the second one yields
            for start in range(0, len(ids), _BATCH):
                session.execute(delete(CustomerKey).where(CustomerKey.case_id.in_(ids[start:start + _BATCH])))
            for start in range(0, len(payload), _BATCH):
                session.execute(insert(CustomerKey), payload[start:start + _BATCH])
    except IntegrityError:
        return 0
    return len(rows)


@dataclass(frozen=True)
class RepeatPolicy:
    window_days: int = DEFAULT_WINDOW_DAYS
    scope: str = "category"  # the previous case must be of the same category, or "any"


def policy(session: Session) -> RepeatPolicy:
    window = session.get(Setting, WINDOW_SETTING)
    scope = session.get(Setting, SCOPE_SETTING)
    try:
        days = check_window(int(window.value)) if window else DEFAULT_WINDOW_DAYS
    except ValueError:
        days = DEFAULT_WINDOW_DAYS
    return RepeatPolicy(days, scope.value if scope and scope.value in SCOPES else "category")


def save_policy(session: Session, new: RepeatPolicy, actor: str, role: str | None) -> None:
    require(role, "edit_improvement")
    check_window(new.window_days)
    if new.scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    old = policy(session)
    for key, value in ((WINDOW_SETTING, str(new.window_days)), (SCOPE_SETTING, new.scope)):
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value))
        else:
            row.value = value
    record(session, actor, "set_repeat_policy", "settings", WINDOW_SETTING,
           {"window_days": old.window_days, "scope": old.scope}, {"window_days": new.window_days, "scope": new.scope})


def _cases(session: Session, since: datetime | None, until: datetime | None, teams: Sequence[str] = ()) -> pd.DataFrame:
    q = (select(Case.id.label("case_id"), Case.case_no, Case.received_at, Case.category, Case.subcategory,
                Handler.name.label("handler"), Team.name.label("team"), CustomerKey.customer_key,
                CaseCluster.cluster_id)
         .join(Handler, Handler.id == Case.handler_id).outerjoin(Team, Team.id == Case.team_id)
         .join(CustomerKey, CustomerKey.case_id == Case.id)
         .outerjoin(CaseCluster, CaseCluster.case_id == Case.id))
    if since is not None:
        q = q.where(Case.received_at >= since)
    if until is not None:
        q = q.where(Case.received_at < until)
    if teams:
        q = q.where(Team.name.in_(list(teams)))
    frame = pd.DataFrame(session.execute(q).all(),
                         columns=["case_id", "case_no", "received_at", "category", "subcategory", "handler", "team",
                                  "customer_key", "cluster_id"])
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    return frame


def repeat_cases(session: Session, start: datetime, end: datetime, rule: RepeatPolicy | None = None) -> pd.DataFrame:
    """Every case registered in [start, end) with its repeat mark; the customer's earlier cases up to a window
    before `start` count as previous cases. Columns of `_cases` plus previous_id, previous_no, previous_handler,
    previous_team, gap_days, repeat."""
    refresh_keys(session)
    rule = rule or policy(session)
    frame = _cases(session, start - timedelta(days=rule.window_days), end)
    marked = mark_repeats(frame, rule.window_days, rule.scope)
    by_id = marked.set_index("case_id")
    prev = marked["previous_id"]
    for col in ("case_no", "handler", "team"):
        marked[f"previous_{'no' if col == 'case_no' else col}"] = prev.map(by_id[col]).where(prev.notna(), None)
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    in_period = (marked["received_at"] >= start_ts) & (marked["received_at"] < end_ts)
    return marked[in_period].reset_index(drop=True)


def repeat_summary(session: Session, start: datetime, end: datetime, teams: Sequence[str] = (),
                   rule: RepeatPolicy | None = None) -> dict:
    """The repeat-complaint rate of a period and where it comes from.

    - overall and per category: share of the period's cases that are repeats;
    - per team and per handler: share of the period's cases that the same customer complained about again
      within the window (the repeat is charged to whoever handled the earlier case, because the customer came
      back after that handling) — cases whose window has not ended yet count as not followed."""
    rule = rule or policy(session)
    cases = repeat_cases(session, start, end, rule)
    followed = _followed(session, start, end, rule)
    if teams:
        cases = cases[cases["team"].isin(list(teams))]
        followed = followed[followed["team"].isin(list(teams))]
    total, repeats = len(cases), int(cases["repeat"].sum()) if len(cases) else 0
    return {
        "policy": rule, "cases": total, "repeats": repeats,
        "rate": round(repeats / total * 100, 1) if total else None,
        "by_category": rate_table(cases, "category"),
        "by_team": rate_table(followed.assign(team=followed["team"].fillna("")), "team", flag="followed"),
        "by_handler": rate_table(followed, "handler", flag="followed"),
        "list": cases[cases["repeat"]].sort_values("received_at", ascending=False).reset_index(drop=True),
    }


def _followed(session: Session, start: datetime, end: datetime, rule: RepeatPolicy) -> pd.DataFrame:
    """The period's cases, each marked `followed` when a repeat of it came within the window."""
    later = repeat_cases(session, start, end + timedelta(days=rule.window_days), rule)
    hit = set(later.loc[later["repeat"], "previous_id"].dropna().astype(int))
    own = later[(later["received_at"] >= pd.Timestamp(start)) & (later["received_at"] < pd.Timestamp(end))].copy()
    own["followed"] = own["case_id"].isin(hit)
    return own


def case_repeats(session: Session, case_id: int, rule: RepeatPolicy | None = None) -> list[dict]:
    """The same customer's other cases within the window before or after this one (any category), nearest
    first, each saying whether it counts as a repeat under the policy's scope."""
    refresh_keys(session)
    rule = rule or policy(session)
    own = session.execute(select(CustomerKey.customer_key, Case.received_at, Case.category, CaseCluster.cluster_id)
                          .join(Case, Case.id == CustomerKey.case_id)
                          .outerjoin(CaseCluster, CaseCluster.case_id == Case.id).where(Case.id == case_id)).one_or_none()
    if own is None or own.customer_key is None:
        return []
    window = timedelta(days=rule.window_days)
    rows = session.execute(
        select(Case.id, Case.case_no, Case.received_at, Case.category, Case.subcategory, Case.closed_at,
               Handler.name.label("handler"), CaseCluster.cluster_id)
        .join(CustomerKey, CustomerKey.case_id == Case.id).join(Handler, Handler.id == Case.handler_id)
        .outerjoin(CaseCluster, CaseCluster.case_id == Case.id)
        .where(CustomerKey.customer_key == own.customer_key, Case.id != case_id,
               Case.received_at >= own.received_at - window, Case.received_at <= own.received_at + window)
    ).all()
    out = []
    for r in rows:
        same = (rule.scope == "any" or (rule.scope == "category" and r.category == own.category)
                or (rule.scope == "cluster" and own.cluster_id is not None and r.cluster_id == own.cluster_id))
        out.append({"case_id": r.id, "case_no": r.case_no, "received_at": r.received_at, "category": r.category,
                    "subcategory": r.subcategory, "handler": r.handler, "closed_at": r.closed_at,
                    "earlier": (r.received_at, r.id) < (own.received_at, case_id), "counts": same,
                    "gap_days": abs((r.received_at - own.received_at).total_seconds()) / 86400.0})
    return sorted(out, key=lambda x: x["gap_days"])


def data_stamp(session: Session) -> tuple:
    """What repeat figures depend on, cheaply: the cases (count, latest change) and the rule's settings."""
    return (session.scalar(select(func.count()).select_from(Case)), session.scalar(select(func.max(Case.updated_at))),
            policy(session))
