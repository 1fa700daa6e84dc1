"""The problem register (10.2.1): problems with their linked complaints, root-cause analysis, actions and
effectiveness checks. Every write checks the role here and is audited; edits of a problem carry the version
the user read, so a stale page cannot overwrite a colleague's change."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audit import record
from db.models import Case, CaseCluster, Handler, Problem, ProblemAction, ProblemCase, ProblemCheck, Team
from domain.capa import (ACTION_KINDS, ACTION_STATES, CAUSES, MAX_WHYS, STATES, ProblemFacts, blockers, next_states,
                         overdue)
from domain.effect import BASES, DEFAULT_WORTHWHILE, rate_ratio
from domain.i18n import Said
from domain.roles import require
from domain.timeutil import fmt_local

MAX_CHECK_DAYS = 365
PER_CASES = 10000


class ProblemRefused(ValueError):
    """A register change that cannot be made (the message says why)."""


def _problem(session: Session, problem_id: int, version: int | None = None) -> Problem:
    row = session.get(Problem, problem_id)
    if row is None:
        raise ProblemRefused(Said("err.capa.none", problem_id=problem_id))
    if version is not None and row.version != version:
        raise ProblemRefused(Said("err.capa.stale"))
    return row


def _text(value: str | None, key: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ProblemRefused(Said(key))
    return text[:limit]


def _case_ids(session: Session, case_nos: Sequence[str]) -> dict[str, int]:
    wanted = list(dict.fromkeys(c.strip() for c in case_nos if c and c.strip()))
    found = dict(session.execute(select(Case.case_no, Case.id).where(Case.case_no.in_(wanted))).all()) if wanted else {}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise ProblemRefused(Said("err.capa.case", case_no=missing[0]))
    return found


def create_problem(session: Session, title: str, statement: str, owner: str, case_nos: Sequence[str],
                   actor: str, role: str | None, now: datetime, scope_category: str | None = None,
                   scope_subcategories: Sequence[str] | None = None, scope_cluster_id: int | None = None) -> int:
    """A new problem; its scope (the complaints its rate counts) defaults to the linked cases' commonest
    category and their subcategories."""
    require(role, "edit_improvement")
    title = _text(title, "err.capa.title", 200)
    statement = _text(statement, "err.capa.statement", 4000)
    owner = _text(owner, "err.capa.owner", 80)
    ids = _case_ids(session, case_nos)
    if scope_category is None and ids:
        rows = session.execute(select(Case.category, Case.subcategory).where(Case.id.in_(ids.values()))).all()
        scope_category = Counter(r.category for r in rows).most_common(1)[0][0]
        if scope_subcategories is None:
            scope_subcategories = sorted({r.subcategory for r in rows if r.category == scope_category and r.subcategory})
    row = Problem(title=title, statement=statement, owner=owner, state="new", scope_category=scope_category,
                  scope_cluster_id=scope_cluster_id,
                  scope_subcategories=json.dumps(list(scope_subcategories or []), ensure_ascii=False), whys="[]",
                  created_by=actor, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    for case_id in ids.values():
        session.add(ProblemCase(problem_id=row.id, case_id=case_id, added_by=actor, added_at=now))
    record(session, actor, "create_problem", "problem", str(row.id), None,
           {"title": title, "owner": owner, "cases": list(ids), "scope": [scope_category, list(scope_subcategories or [])],
            "cluster": scope_cluster_id})
    return row.id


def link_cases(session: Session, problem_id: int, case_nos: Sequence[str], actor: str, role: str | None,
               now: datetime, unlink: bool = False) -> int:
    require(role, "edit_improvement")
    row = _problem(session, problem_id)
    ids = _case_ids(session, case_nos)
    linked = set(session.scalars(select(ProblemCase.case_id).where(ProblemCase.problem_id == problem_id)))
    changed = 0
    for case_id in ids.values():
        if unlink and case_id in linked:
            session.delete(session.get(ProblemCase, (problem_id, case_id)))
            changed += 1
        elif not unlink and case_id not in linked:
            session.add(ProblemCase(problem_id=problem_id, case_id=case_id, added_by=actor, added_at=now))
            changed += 1
    if changed:
        row.updated_at = now
        record(session, actor, "unlink_cases" if unlink else "link_cases", "problem", str(problem_id), None, list(ids))
    return changed


def save_analysis(session: Session, problem_id: int, version: int, actor: str, role: str | None, now: datetime, *,
                  statement: str, owner: str, cause_category: str | None, root_cause: str, whys: Sequence[str],
                  scope_category: str | None, scope_subcategories: Sequence[str], fixed_at: datetime | None) -> None:
    require(role, "edit_improvement")
    row = _problem(session, problem_id, version)
    if row.state in ("closed",):
        raise ProblemRefused(Said("err.capa.closed"))
    if cause_category is not None and cause_category not in CAUSES:
        raise ProblemRefused(Said("err.capa.cause"))
    answers = [w.strip() for w in whys if w and w.strip()]
    if len(answers) > MAX_WHYS:
        raise ProblemRefused(Said("err.capa.whys", limit=MAX_WHYS))
    if fixed_at is not None and fixed_at > now:
        raise ProblemRefused(Said("err.capa.fixed_future"))
    before = {"statement": row.statement, "owner": row.owner, "cause": row.cause_category, "root_cause": row.root_cause,
              "whys": json.loads(row.whys), "scope": [row.scope_category, json.loads(row.scope_subcategories)],
              "fixed_at": row.fixed_at}
    row.statement = _text(statement, "err.capa.statement", 4000)
    row.owner = _text(owner, "err.capa.owner", 80)
    row.cause_category = cause_category
    row.root_cause = (root_cause or "").strip()[:4000] or None
    row.whys = json.dumps(answers, ensure_ascii=False)
    row.scope_category = scope_category
    row.scope_subcategories = json.dumps(list(scope_subcategories), ensure_ascii=False)
    row.fixed_at = fixed_at
    row.updated_at = now
    after = {"statement": row.statement, "owner": row.owner, "cause": cause_category, "root_cause": row.root_cause,
             "whys": answers, "scope": [scope_category, list(scope_subcategories)], "fixed_at": fixed_at}
    record(session, actor, "edit_problem", "problem", str(problem_id),
           {k: v for k, v in before.items() if before[k] != after[k]},
           {k: v for k, v in after.items() if before[k] != after[k]})


def add_action(session: Session, problem_id: int, kind: str, text: str, owner: str, due_at: datetime, actor: str,
               role: str | None, now: datetime) -> int:
    require(role, "edit_improvement")
    row = _problem(session, problem_id)
    if row.state == "closed":
        raise ProblemRefused(Said("err.capa.closed"))
    if kind not in ACTION_KINDS:
        raise ProblemRefused(Said("err.capa.kind"))
    text = _text(text, "err.capa.action_text", 2000)
    owner = _text(owner, "err.capa.owner", 80)
    if due_at is None:
        raise ProblemRefused(Said("err.capa.due"))
    action = ProblemAction(problem_id=problem_id, kind=kind, text=text, owner=owner, due_at=due_at, state="open",
                           created_by=actor, created_at=now)
    session.add(action)
    session.flush()
    row.updated_at = now
    record(session, actor, "add_action", "problem", str(problem_id), None,
           {"action": action.id, "kind": kind, "text": text, "owner": owner, "due_at": due_at})
    return action.id


def update_action(session: Session, action_id: int, state: str, evidence: str, actor: str, role: str | None,
                  now: datetime) -> None:
    require(role, "edit_improvement")
    action = session.get(ProblemAction, action_id)
    if action is None:
        raise ProblemRefused(Said("err.capa.no_action", action_id=action_id))
    if state not in ACTION_STATES:
        raise ProblemRefused(Said("err.capa.action_state"))
    evidence = (evidence or "").strip()
    if state == "done" and not evidence:
        raise ProblemRefused(Said("err.capa.evidence"))
    old = {"state": action.state, "evidence": action.evidence}
    action.state, action.evidence = state, evidence or action.evidence
    action.done_at = now if state == "done" else None
    _problem(session, action.problem_id).updated_at = now
    record(session, actor, "update_action", "problem", str(action.problem_id), {"action": action_id, **old},
           {"action": action_id, "state": state, "evidence": action.evidence})


def _scope_filter(row: Problem):
    if row.scope_cluster_id is not None:
        return [Case.id.in_(select(CaseCluster.case_id).where(CaseCluster.cluster_id == row.scope_cluster_id))]
    subs = json.loads(row.scope_subcategories or "[]")
    conditions = [Case.category == row.scope_category]
    if subs:
        conditions.append(Case.subcategory.in_(subs))
    return conditions


def _count(session: Session, start: datetime, end: datetime, conditions=()) -> int:
    return session.scalar(select(func.count()).select_from(Case)
                          .where(Case.received_at >= start, Case.received_at < end, *conditions)) or 0


def check_effect(session: Session, problem_id: int, window_days: int, basis: str, actor: str, role: str | None,
                 now: datetime, worthwhile: float = DEFAULT_WORTHWHILE) -> int:
    """Count the problem's complaints in the `window_days` before the fix and the same after it, test the rate
    ratio and store the result. Refused while the after-window has not ended."""
    require(role, "edit_improvement")
    row = _problem(session, problem_id)
    if row.fixed_at is None:
        raise ProblemRefused(Said("err.capa.fixed_at"))
    if row.scope_category is None and row.scope_cluster_id is None:
        raise ProblemRefused(Said("err.capa.scope"))
    if basis not in BASES:
        raise ProblemRefused(Said("err.capa.basis"))
    if not 1 <= int(window_days) <= MAX_CHECK_DAYS:
        raise ProblemRefused(Said("err.capa.window", limit=MAX_CHECK_DAYS))
    window = timedelta(days=int(window_days))
    fix = row.fixed_at
    if fix + window > now:
        raise ProblemRefused(Said("err.capa.window_open", until=fmt_local(fix + window)))
    scope = _scope_filter(row)
    before = _count(session, fix - window, fix, scope)
    after = _count(session, fix, fix + window, scope)
    if basis == "day":
        exp_before = exp_after = float(window_days)
    else:
        exp_before = float(_count(session, fix - window, fix))
        exp_after = float(_count(session, fix, fix + window))
    result = rate_ratio(before, after, exp_before, exp_after, worthwhile=worthwhile)
    check = ProblemCheck(problem_id=problem_id, fixed_at=fix, window_days=int(window_days), basis=basis,
                         before_count=before, after_count=after, before_exposure=exp_before, after_exposure=exp_after,
                         ratio=_finite(result.ratio), low=_finite(result.low), high=_finite(result.high),
                         p_value=result.p_value, verdict=result.verdict, checked_by=actor, checked_at=now)
    session.add(check)
    session.flush()
    row.updated_at = now
    record(session, actor, "check_problem", "problem", str(problem_id), None,
           {"check": check.id, "window_days": int(window_days), "basis": basis, "before": before, "after": after,
            "ratio": check.ratio, "verdict": result.verdict})
    return check.id


def _finite(value: float | None) -> float | None:
    """Infinity (no complaints before the fix) is stored as NULL: neither database agrees on storing it."""
    return None if value is None or value == float("inf") else value


def move(session: Session, problem_id: int, version: int, target: str, actor: str, role: str | None, now: datetime,
         reason: str = "") -> None:
    """Move the problem to `target` if the register's rules allow it (domain.capa)."""
    require(role, "edit_improvement")
    row = _problem(session, problem_id, version)
    if target not in STATES:
        raise ProblemRefused(Said("err.capa.transition", current=row.state, target=target))
    facts = _facts(session, row, reason)
    problems = blockers(facts, target)
    if problems:
        raise ProblemRefused(problems[0])
    old = row.state
    row.state = target
    if target in ("closed", "not_effective"):
        row.close_reason = reason.strip() or None
    row.updated_at = now
    record(session, actor, "move_problem", "problem", str(problem_id), {"state": old},
           {"state": target, "reason": reason.strip() or None, "verdict": facts.last_verdict})


def _facts(session: Session, row: Problem, reason: str = "") -> ProblemFacts:
    cases = session.scalar(select(func.count()).select_from(ProblemCase).where(ProblemCase.problem_id == row.id)) or 0
    actions = tuple((kind, state) for kind, state in session.execute(
        select(ProblemAction.kind, ProblemAction.state).where(ProblemAction.problem_id == row.id)))
    last = session.scalar(select(ProblemCheck.verdict).where(ProblemCheck.problem_id == row.id)
                          .order_by(ProblemCheck.checked_at.desc(), ProblemCheck.id.desc()).limit(1))
    return ProblemFacts(state=row.state, statement=row.statement, cases=cases, cause_category=row.cause_category,
                        root_cause=row.root_cause, whys=tuple(json.loads(row.whys or "[]")), fixed_at=row.fixed_at,
                        actions=actions, last_verdict=last, close_reason=reason)


def problems(session: Session, states: Sequence[str] = ()) -> list[dict]:
    q = select(Problem).order_by(Problem.updated_at.desc(), Problem.id.desc())
    if states:
        q = q.where(Problem.state.in_(list(states)))
    rows = session.scalars(q).all()
    counts = dict(session.execute(select(ProblemCase.problem_id, func.count()).group_by(ProblemCase.problem_id)).all())
    open_actions = dict(session.execute(select(ProblemAction.problem_id, func.count())
                                        .where(ProblemAction.state == "open").group_by(ProblemAction.problem_id)).all())
    return [{"id": r.id, "title": r.title, "owner": r.owner, "state": r.state, "cause_category": r.cause_category,
             "scope_category": r.scope_category, "cases": counts.get(r.id, 0), "open_actions": open_actions.get(r.id, 0),
             "updated_at": r.updated_at, "created_at": r.created_at} for r in rows]


def problem_detail(session: Session, problem_id: int) -> dict:
    row = _problem(session, problem_id)
    cases = session.execute(
        select(Case.case_no, Case.received_at, Case.category, Case.subcategory, Handler.name.label("handler"),
               Team.name.label("team"), Case.satisfaction)
        .join(ProblemCase, ProblemCase.case_id == Case.id).join(Handler, Handler.id == Case.handler_id)
        .outerjoin(Team, Team.id == Case.team_id).where(ProblemCase.problem_id == problem_id)
        .order_by(Case.received_at)).mappings().all()
    actions = session.scalars(select(ProblemAction).where(ProblemAction.problem_id == problem_id)
                              .order_by(ProblemAction.due_at, ProblemAction.id)).all()
    checks = session.scalars(select(ProblemCheck).where(ProblemCheck.problem_id == problem_id)
                             .order_by(ProblemCheck.checked_at.desc(), ProblemCheck.id.desc())).all()
    return {
        "id": row.id, "title": row.title, "statement": row.statement, "owner": row.owner, "state": row.state,
        "version": row.version, "cause_category": row.cause_category, "root_cause": row.root_cause or "",
        "whys": json.loads(row.whys or "[]"), "scope_category": row.scope_category,
        "scope_subcategories": json.loads(row.scope_subcategories or "[]"), "fixed_at": row.fixed_at,
        "scope_cluster_id": row.scope_cluster_id,
        "close_reason": row.close_reason, "created_by": row.created_by, "created_at": row.created_at,
        "next_states": next_states(row.state),
        "cases": [dict(c) for c in cases],
        "teams": Counter(c["team"] or "" for c in cases).most_common(),
        # the linked customers' names, only to mask them where the problem's text leaves the page (PDF)
        "mask_names": sorted(set(session.scalars(select(Case.customer_name).join(ProblemCase, ProblemCase.case_id == Case.id)
                                                  .where(ProblemCase.problem_id == problem_id,
                                                         Case.customer_name.is_not(None))))),
        "actions": [{"id": a.id, "kind": a.kind, "text": a.text, "owner": a.owner, "due_at": a.due_at, "state": a.state,
                     "evidence": a.evidence or "", "done_at": a.done_at} for a in actions],
        "checks": [{"id": c.id, "fixed_at": c.fixed_at, "window_days": c.window_days, "basis": c.basis,
                    "before": c.before_count, "after": c.after_count, "before_exposure": c.before_exposure,
                    "after_exposure": c.after_exposure, "ratio": c.ratio, "low": c.low, "high": c.high,
                    "p_value": c.p_value, "verdict": c.verdict, "checked_by": c.checked_by, "checked_at": c.checked_at}
                   for c in checks],
    }


def overdue_actions(session: Session, now: datetime) -> list[dict]:
    """Open actions past their due date on problems not closed, most overdue first."""
    rows = session.execute(
        select(ProblemAction, Problem.title).join(Problem, Problem.id == ProblemAction.problem_id)
        .where(ProblemAction.state == "open", ProblemAction.due_at < now, Problem.state != "closed")
        .order_by(ProblemAction.due_at)).all()
    return [{"id": a.id, "problem_id": a.problem_id, "problem": title, "kind": a.kind, "text": a.text, "owner": a.owner,
             "due_at": a.due_at, "days": (now - a.due_at).days} for a, title in rows if overdue(a.due_at, a.state, now)]


def subcategories(session: Session, category: str | None) -> list[str]:
    """The subcategories the category's complaints use, for choosing a problem's counted complaints."""
    if not category:
        return []
    return sorted(s for s in session.scalars(select(Case.subcategory).where(Case.category == category,
                                                                            Case.subcategory.is_not(None)).distinct()) if s)


def all_actions(session: Session) -> list[dict]:
    """Every action of every problem, for the register's export."""
    rows = session.execute(select(ProblemAction, Problem.title).join(Problem, Problem.id == ProblemAction.problem_id)
                           .order_by(ProblemAction.problem_id, ProblemAction.due_at, ProblemAction.id)).all()
    return [{"id": a.id, "problem_id": a.problem_id, "problem": title, "kind": a.kind, "text": a.text, "owner": a.owner,
             "due_at": a.due_at, "state": a.state, "evidence": a.evidence or "", "done_at": a.done_at} for a, title in rows]
