"""Demo inspection and training records for the first-start demo database, so that the inspectors' and
trainers' pages show something on the README's first command. Written through the same functions the
pages use (plans, assessments, training sessions), so they are audited like real ones."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from db.inspection import Population, assignments, create_plan, ensure_default_scorecard, load_item, save_assessment
from db.library import LibraryFilters, record_training, search_library
from db.queries import case_obligations, case_record
from domain import clock
from rules.applies import applicable_checks
from domain.sampling import Method, SampleInvalid
from domain.scorecard import form_items
from services.views import flag_detail, rule_title


def seed_demo_quality(session: Session, inspector: str = "inspector", trainer: str = "trainer",
                      now: datetime | None = None) -> None:
    now = now or clock.now_precise()
    rng = random.Random(7)
    card = ensure_default_scorecard(session)
    month = Population(start=now - timedelta(days=35), end=now - timedelta(days=5))
    try:
        plan_id, _n = create_plan(session, "演示：近一个月风险加权抽检", "regular", Method("risk", size=24, weight=3),
                                  month, 20261129, [inspector], card, "demo-setup", now)
    except SampleInvalid:
        return
    for item in assignments(session, plan_id=plan_id)[:12]:  # half assessed, half left to do
        loaded = load_item(session, item["id"])
        record = case_record(session, loaded["case_no"])
        obligations = case_obligations(session, loaded["case_id"], now)
        rows = form_items(loaded["scorecard"]["items"], obligations, None, lambda o: flag_detail(o, now), "zh",
                          applicable_checks(record, now), rule_title)
        engine = {r["key"]: r["engine"] for r in rows}
        verdicts = {k: v or ("fail" if rng.random() < 0.15 else "pass") for k, v in engine.items()}
        save_assessment(session, item["id"], 0, verdicts, engine, {}, {}, {}, "演示评分", inspector,
                        now - timedelta(days=rng.randint(0, 20)))
    used = [e["case_no"] for e in search_library(session, LibraryFilters(), limit=4)]
    if used:
        record_training(session, now - timedelta(days=12), "演示培训师", "典型投诉案例复盘：时限与记录",
                        ["李娜", "张伟", "王芳", "刘洋"], used, trainer)


def seed_demo_notice(session: Session, lead: str = "lead", handler: str = "handler",
                     now: datetime | None = None) -> None:
    """One 督办 notice from the demo team lead to the demo handler, about one of her open deadlines."""
    from sqlalchemy import select

    from db.models import Case, Obligation, User
    from db.notices import send_notice

    now = now or clock.now_precise()
    handler_id = session.scalar(select(User.handler_id).where(User.username == handler))
    if handler_id is None:
        return
    row = session.execute(select(Case.case_no, Obligation.rule_id).join(Case, Case.id == Obligation.case_id)
                          .where(Obligation.handler_id == handler_id, Obligation.state == "open",
                                 Obligation.rule_id != "ARC-ARCHIVE").order_by(Obligation.due_at).limit(1)).first()
    if row is not None:
        send_notice(session, row.case_no, row.rule_id, "客户来电催问，请今天内联系客户并回复处理进展。",
                    now + timedelta(hours=4), lead, "team_lead", now)
