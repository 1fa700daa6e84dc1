"""Handlers and their assessments (6.3): a handler sees each assessment of her cases, acknowledges it, or
disputes chosen failed items within the scorecard version's window, giving a reason per item. The
inspector who assessed (or an admin) accepts — the disputed items become passed, the score is computed
again, the earlier version is kept — or rejects with a reason. Results count the final score."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audit import record
from db.models import Assessment, AssessmentItem, AssessmentVersion, Case, Dispute, Scorecard
from db.users import display_name
from domain import clock
from domain.i18n import Said
from domain.roles import require
from domain.scorecard import score


class DisputeRefused(ValueError):
    """The acknowledgement, dispute or decision was not recorded; the message says why."""


def _card(session: Session, scorecard_id: int) -> Scorecard:
    return session.get(Scorecard, scorecard_id)


def _items(session: Session, assessment_id: int) -> list[AssessmentItem]:
    return list(session.scalars(select(AssessmentItem).where(AssessmentItem.assessment_id == assessment_id)
                                .order_by(AssessmentItem.id)))


def my_assessments(session: Session, handler_id: int, now: datetime) -> list[dict[str, Any]]:
    """Assessments (not calibration) of the handler's cases, newest first, with items and any dispute."""
    q = (select(Assessment, Case.case_no).join(Case, Case.id == Assessment.case_id)
         .where(Assessment.handler_id == handler_id, Assessment.purpose == "regular")
         .order_by(Assessment.assessed_at.desc()))
    out = []
    for a, case_no in session.execute(q):
        card = _card(session, a.scorecard_id)
        titles = {i["key"]: i for i in json.loads(card.items)}
        dispute = session.scalar(select(Dispute).where(Dispute.assessment_id == a.id).order_by(Dispute.id.desc()).limit(1))
        window_end = a.assessed_at + timedelta(hours=card.dispute_hours)
        out.append({
            "id": a.id, "case_no": case_no, "score": a.score, "passed": a.passed, "inspector": a.inspector,
            "assessed_at": a.assessed_at, "acknowledged_at": a.acknowledged_at, "comment": a.comment,
            "window_end": window_end, "open": a.acknowledged_at is None and dispute is None and now <= window_end,
            "dispute": None if dispute is None else {"status": dispute.status, "items": json.loads(dispute.items),
                                                     "note": dispute.note, "decided_by": dispute.decided_by},
            "items": [{"key": i.item_key, "clause": i.clause, "title": titles.get(i.item_key, {}).get("title_zh", i.item_key),
                       "verdict": i.verdict, "comment": i.comment, "evidence": i.engine_evidence} for i in _items(session, a.id)],
        })
    return out


def _own(session: Session, assessment_id: int, handler_id: int | None) -> Assessment:
    a = session.get(Assessment, assessment_id)
    if a is None or handler_id is None or a.handler_id != handler_id:
        raise DisputeRefused(Said("err.disputes.1"))
    return a


def acknowledge(session: Session, assessment_id: int, handler_id: int | None, actor: str, role: str | None,
                now: datetime | None = None) -> None:
    require(role, "dispute")
    now = now or clock.now_precise()
    a = _own(session, assessment_id, handler_id)
    if a.acknowledged_at is not None:
        raise DisputeRefused(Said("err.disputes.2"))
    if session.scalar(select(Dispute.id).where(Dispute.assessment_id == a.id, Dispute.status == "open")):
        raise DisputeRefused(Said("err.disputes.3"))
    a.acknowledged_at = now
    record(session, actor, "acknowledge_assessment", "assessment", str(a.id), None, {"at": now})


def open_dispute(session: Session, assessment_id: int, reasons: dict[str, str], handler_id: int | None, actor: str,
                 role: str | None, now: datetime | None = None) -> int:
    require(role, "dispute")
    now = now or clock.now_precise()
    a = _own(session, assessment_id, handler_id)
    card = _card(session, a.scorecard_id)
    if a.acknowledged_at is not None:
        raise DisputeRefused(Said("err.disputes.4"))
    if now > a.assessed_at + timedelta(hours=card.dispute_hours):
        raise DisputeRefused(Said("err.disputes.5", hours=format(card.dispute_hours, "g")))
    if session.scalar(select(Dispute.id).where(Dispute.assessment_id == a.id)):
        raise DisputeRefused(Said("err.disputes.6"))
    failed = {i.item_key for i in _items(session, a.id) if i.verdict == "fail"}
    chosen = {k: (v or "").strip() for k, v in reasons.items()}
    if not chosen:
        raise DisputeRefused(Said("err.disputes.7"))
    for key, reason in chosen.items():
        if key not in failed:
            raise DisputeRefused(Said("err.disputes.11", key=key))
        if not reason:
            raise DisputeRefused(Said("err.disputes.12", key=key))
    d = Dispute(assessment_id=a.id, handler_id=a.handler_id, items=json.dumps(chosen, ensure_ascii=False),
                opened_by=actor, opened_at=now, status="open", score_before=a.score)
    session.add(d)
    session.flush()
    record(session, actor, "open_dispute", "assessment", str(a.id), None, {"items": chosen})
    return d.id


def decide(session: Session, dispute_id: int, accept: bool, note: str, actor: str, role: str | None,
           now: datetime | None = None) -> None:
    require(role, "decide_dispute")
    now = now or clock.now_precise()
    d = session.get(Dispute, dispute_id)
    if d is None or d.status != "open":
        raise DisputeRefused(Said("err.disputes.8"))
    a = session.get(Assessment, d.assessment_id)
    if actor != a.inspector and role != "admin":
        raise DisputeRefused(Said("err.disputes.9", inspector=display_name(session, a.inspector)))
    note = (note or "").strip()
    if not accept and not note:
        raise DisputeRefused(Said("err.disputes.10"))
    if accept:
        items = _items(session, a.id)
        verdicts = {i.item_key: i.verdict for i in items}
        session.add(AssessmentVersion(assessment_id=a.id, replaced_at=now, reason="dispute accepted",
                                      snapshot=json.dumps({"score": a.score, "passed": a.passed, "verdicts": verdicts})))
        for i in items:
            if i.item_key in json.loads(d.items):
                i.verdict = "pass"
                verdicts[i.item_key] = "pass"
        card = _card(session, a.scorecard_id)
        result = score(json.loads(card.items), verdicts, card.pass_mark)
        a.score, a.passed, a.critical_failed = result.score, result.passed, result.critical_failed
        d.score_after = result.score
    d.status = "accepted" if accept else "rejected"
    d.decided_by, d.decided_at, d.note = actor, now, note or None
    record(session, actor, "decide_dispute", "assessment", str(a.id), {"score": d.score_before},
           {"status": d.status, "score": a.score, "note": note})


def dispute_queue(session: Session, now: datetime, inspector: str | None = None) -> list[dict[str, Any]]:
    """Open disputes, oldest first, with their age in hours."""
    q = (select(Dispute, Assessment.inspector, Assessment.scorecard_id, Case.case_no)
         .join(Assessment, Assessment.id == Dispute.assessment_id)
         .join(Case, Case.id == Assessment.case_id).where(Dispute.status == "open").order_by(Dispute.opened_at))
    if inspector:
        q = q.where(Assessment.inspector == inspector)
    out = []
    for d, who, card_id, no in session.execute(q):
        titles = {i["key"]: f"{i['clause']} {i['title_zh']}" for i in json.loads(_card(session, card_id).items)}
        out.append({"id": d.id, "case_no": no, "inspector": who, "items": json.loads(d.items),
                    "titles": {k: titles.get(k, k) for k in json.loads(d.items)}, "opened_by": d.opened_by,
                    "opened_at": d.opened_at, "age_h": (now - d.opened_at).total_seconds() / 3600,
                    "score": d.score_before})
    return out


def outcomes(session: Session) -> list[dict[str, Any]]:
    """Decided disputes per inspector and outcome (the disputes page's summary)."""
    q = (select(Assessment.inspector, Dispute.status, func.count()).join(Assessment, Assessment.id == Dispute.assessment_id)
         .where(Dispute.status != "open").group_by(Assessment.inspector, Dispute.status))
    return [{"inspector": i, "status": s, "n": int(n)} for i, s, n in session.execute(q)]
