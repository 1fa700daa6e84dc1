"""End-to-end walks (全流程穿越, 10.2.2): record a walk of one case through the handling flow, attach its
shortfalls to a problem, and read the walks back step by step."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audit import record
from db.models import Case, Handler, Problem, ProblemCase, Walk, WalkStep
from domain.i18n import Said
from domain.roles import require
from domain.walk import STEP_KEYS, VERDICTS, findings

MAX_NOTE = 2000


class WalkRefused(ValueError):
    """A walk that cannot be recorded (the message says why)."""


def record_walk(session: Session, case_no: str, verdicts: dict[str, str], notes: dict[str, str], summary: str,
                actor: str, role: str | None, now: datetime, problem_id: int | None = None) -> int:
    """Every step needs a verdict; a step that fell short needs a note saying what. Attaching to a problem
    links the case to it (as evidence) and records the walk there."""
    require(role, "walk")
    case_id = session.scalar(select(Case.id).where(Case.case_no == (case_no or "").strip()))
    if case_id is None:
        raise WalkRefused(Said("err.walk.case", case_no=case_no or ""))
    missing = [k for k in STEP_KEYS if verdicts.get(k) not in VERDICTS]
    if missing:
        raise WalkRefused(Said("err.walk.verdict", step=missing[0]))
    unexplained = [k for k in findings(verdicts) if not (notes.get(k) or "").strip()]
    if unexplained:
        raise WalkRefused(Said("err.walk.note", step=unexplained[0]))
    if problem_id is not None:
        problem = session.get(Problem, problem_id)
        if problem is None or problem.state == "closed":
            raise WalkRefused(Said("err.walk.problem", problem_id=problem_id))
        require(role, "edit_improvement")
    walk = Walk(case_id=case_id, walker=actor, walked_at=now, summary=(summary or "").strip()[:MAX_NOTE] or None,
                problem_id=problem_id)
    session.add(walk)
    session.flush()
    for k in STEP_KEYS:
        session.add(WalkStep(walk_id=walk.id, step=k, verdict=verdicts[k], note=(notes.get(k) or "").strip()[:MAX_NOTE] or None))
    if problem_id is not None and session.get(ProblemCase, (problem_id, case_id)) is None:
        session.add(ProblemCase(problem_id=problem_id, case_id=case_id, added_by=actor, added_at=now))
    record(session, actor, "walk_case", "case", case_no, None,
           {"walk": walk.id, "poor": findings(verdicts), "problem": problem_id})
    return walk.id


def sample_case(session: Session, start: datetime, end: datetime, seed: int | None = None) -> str | None:
    """A closed case of the period picked at random (the walk is a sample, not a choice)."""
    ids = list(session.scalars(select(Case.case_no).where(Case.closed_at >= start, Case.closed_at < end)
                               .order_by(Case.id)))
    return random.Random(seed).choice(ids) if ids else None


def walks(session: Session, limit: int = 200) -> list[dict]:
    rows = session.execute(select(Walk, Case.case_no, Handler.name).join(Case, Case.id == Walk.case_id)
                           .join(Handler, Handler.id == Case.handler_id)
                           .order_by(Walk.walked_at.desc(), Walk.id.desc()).limit(limit)).all()
    steps: dict[int, dict[str, tuple[str, str | None]]] = {}
    if rows:
        for s in session.scalars(select(WalkStep).where(WalkStep.walk_id.in_([w.id for w, _c, _h in rows]))):
            steps.setdefault(s.walk_id, {})[s.step] = (s.verdict, s.note)
    return [{"id": w.id, "case_no": case_no, "handler": handler, "walker": w.walker, "walked_at": w.walked_at,
             "summary": w.summary or "", "problem_id": w.problem_id, "steps": steps.get(w.id, {})}
            for w, case_no, handler in rows]


def step_summary(session: Session) -> dict[str, Counter]:
    """Per step, how many walks judged it good, poor, or not applicable."""
    out: dict[str, Counter] = {k: Counter() for k in STEP_KEYS}
    for step, verdict, n in session.execute(select(WalkStep.step, WalkStep.verdict, func.count())
                                            .group_by(WalkStep.step, WalkStep.verdict)):
        out.setdefault(step, Counter())[verdict] = n
    return out


def problem_choices(session: Session) -> list[tuple[int, str]]:
    return [(p.id, p.title) for p in session.scalars(select(Problem).where(Problem.state != "closed")
                                                      .order_by(Problem.id.desc()))]


def walks_of(session: Session, problem_id: int) -> Sequence[dict]:
    return [w for w in walks(session, limit=1000) if w["problem_id"] == problem_id]
