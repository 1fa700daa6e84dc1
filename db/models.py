"""Typed ORM models. Every instant is stored as naive UTC (see UTCDateTime) so that SQLite and PostgreSQL
hold the same values and comparisons in range queries are plain column comparisons."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from domain import clock

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the column.

    PostgreSQL's timestamptz would do this by itself, but SQLite has no zone type; one representation for
    both keeps the same queries and tests valid on either database.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        zone = value.tzinfo
        if zone is timezone.utc:  # the common case (everything inside the product is UTC): no conversion
            return value.replace(tzinfo=None)
        if zone is None:
            raise ValueError("naive datetime given to a UTC column; attach a zone first")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL paths on SQLite
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> datetime:
    return clock.stamp()


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Handler(Base):
    __tablename__ = "handlers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("teams.id"))
    team: Mapped[Optional[Team]] = relationship()


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20), index=True)
    subcategory: Mapped[Optional[str]] = mapped_column(String(100))
    customer_name: Mapped[Optional[str]] = mapped_column(String(100))
    customer_phone: Mapped[Optional[str]] = mapped_column(String(40), index=True)
    handler_id: Mapped[int] = mapped_column(ForeignKey("handlers.id"), index=True)
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("teams.id"), index=True)
    description: Mapped[Optional[str]] = mapped_column(Text)
    true_reason: Mapped[Optional[str]] = mapped_column(Text)
    customer_demand: Mapped[Optional[str]] = mapped_column(Text)
    items_confirmed: Mapped[Optional[bool]] = mapped_column(Boolean)
    promised_reply_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    acceptance: Mapped[str] = mapped_column(String(20))
    rejection_reason: Mapped[Optional[str]] = mapped_column(String(40))
    rejection_informed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    transferred_to: Mapped[Optional[str]] = mapped_column(String(100))
    event_restoration: Mapped[Optional[str]] = mapped_column(Text)
    existing_problem: Mapped[Optional[str]] = mapped_column(Text)
    solution_measures: Mapped[Optional[str]] = mapped_column(Text)
    dept_solution: Mapped[Optional[str]] = mapped_column(Text)
    long_running_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    progress_interval_hours: Mapped[Optional[float]] = mapped_column(Float)
    decision: Mapped[Optional[str]] = mapped_column(Text)
    survey_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    satisfaction: Mapped[Optional[str]] = mapped_column(String(30))
    dissatisfaction_cause: Mapped[Optional[str]] = mapped_column(Text)
    demand_excessive: Mapped[Optional[bool]] = mapped_column(Boolean)
    alternatives: Mapped[Optional[str]] = mapped_column(Text)  # items joined by "；"
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    archived_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    typical: Mapped[Optional[bool]] = mapped_column(Boolean)
    typical_summary: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)
    # Optimistic concurrency: a writer that read an older version is refused instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)

    handler: Mapped[Handler] = relationship()
    team: Mapped[Optional[Team]] = relationship()
    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="case", order_by="Contact.contact_at", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Open cases are few among a year of closed ones: counted from this partial index alone.
        Index("ix_cases_open", "acceptance", "received_at", "team_id", "handler_id", "category", "channel",
              sqlite_where=text("closed_at IS NULL"), postgresql_where=text("closed_at IS NULL")),
        # Closed cases by closing time. Partial, so that "closed_at IS NULL" can only be served by
        # ix_cases_open (SQLite's statistics would otherwise take NULLs for rare and pick this one); covering
        # the board's filters, so "open at a past instant" (closed after it) is counted from the index alone.
        # (PostgreSQL's index also carries the id, which SQLite's has anyway as the row id: a sampling
        # population of a month reads ids and filters from this index alone.)
        Index("ix_cases_closed_covering", "closed_at", "received_at", "acceptance", "team_id", "handler_id",
              "category", "channel", sqlite_where=text("closed_at IS NOT NULL"),
              postgresql_where=text("closed_at IS NOT NULL"), postgresql_include=["id"]),
    )


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("case_id", "contact_at", "kind", name="uq_contacts_case_time_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    contact_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[Optional[str]] = mapped_column(String(20))
    note: Mapped[Optional[str]] = mapped_column(Text)
    case: Mapped[Case] = relationship(back_populates="contacts")


class Obligation(Base):
    """One applicable rule for one case, as last evaluated.

    `state` is `met`, `breached` or `review` when the outcome no longer depends on the clock, and `open` for a
    deadline not yet fulfilled: whether an open one is at risk or breached follows from `warn_at`, `due_at` and
    the time of the query, so the board is a range query and passing time needs no re-evaluation.
    """

    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("case_id", "rule_id", name="uq_obligations_case_rule"),
        Index("ix_obligations_state_due_rule", "state", "due_at", "rule_id"),
        Index("ix_obligations_rule_state", "rule_id", "state"),
        # The live board reads open obligations past their warning time again and again: a partial index
        # over just those rows, holding every column the board filters or groups by, answers from the index.
        Index("ix_obligations_open_board", "warn_at", "due_at", "rule_id", "case_closed_at", "team_id",
              "handler_id", "category", "channel", sqlite_where=text("state = 'open'"),
              postgresql_where=text("state = 'open'")),
        # The same without the archive deadline: a year of closed cases leaves a long tail of cases never
        # archived (the archive page's work), which the customer-facing board need not wade through.
        Index("ix_obligations_open_customer", "warn_at", "due_at", "rule_id", "case_closed_at", "team_id",
              "handler_id", "category", "channel",
              sqlite_where=text("state = 'open' AND rule_id <> 'ARC-ARCHIVE'"),
              postgresql_where=text("state = 'open' AND rule_id <> 'ARC-ARCHIVE'")),
        # Breaches by due time with every column the board groups or filters by: counted from the index.
        # (`state` is repeated as a column: SQLite reads nothing from a partial index's WHERE.)
        Index("ix_obligations_breached_due", "due_at", "rule_id", "team_id", "handler_id", "category", "channel",
              "state", sqlite_where=text("state = 'breached'"), postgresql_where=text("state = 'breached'")),
        # Which cases of a period have a breach or review stored (the sampling population of a month: 200k
        # cases at 1M), read as one range instead of every obligation row of every case.
        Index("ix_obligations_settled_closed", "case_closed_at", "case_id",
              sqlite_where=text("state IN ('breached', 'review')"),
              postgresql_where=text("state IN ('breached', 'review')")),
        # Open deadlines past their warning time, with their case: the other half of the population's flags.
        Index("ix_obligations_open_warn_case", "warn_at", "case_id", sqlite_where=text("state = 'open'"),
              postgresql_where=text("state = 'open'")),
        # Closed cases not yet archived, by closing time: the board's "to archive" tile and the archive page.
        Index("ix_obligations_archive_backlog", "case_closed_at", "team_id", "handler_id", "category", "channel",
              "state", "rule_id", sqlite_where=text("state = 'open' AND rule_id = 'ARC-ARCHIVE'"),
              postgresql_where=text("state = 'open' AND rule_id = 'ARC-ARCHIVE'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(40))
    clause: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    warn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    detail: Mapped[Optional[str]] = mapped_column(Text)
    evidence: Mapped[Optional[str]] = mapped_column(Text)  # JSON
    rules_version: Mapped[str] = mapped_column(String(40))
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Copied from the case when it is evaluated (any change of the case re-evaluates it), so that the live
    # board filters and groups by team, handler, category and channel without joining a million cases.
    team_id: Mapped[Optional[int]] = mapped_column(Integer)
    handler_id: Mapped[Optional[int]] = mapped_column(Integer)
    category: Mapped[Optional[str]] = mapped_column(String(20))
    channel: Mapped[Optional[str]] = mapped_column(String(20))
    case_closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class Setting(Base):
    """Key/value settings editable by an admin (rule thresholds live here, defaults in rules/thresholds.py)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)


class User(Base):
    """A member of staff. Passwords are stored as bcrypt hashes only."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # sign-in attempts whose password is being checked right now (each took a place first, db/users.py)
    pending_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pending_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    # Raised whenever the account's password, role or active state changes: a session opened before the
    # change carries the old value and is ended on its next page run.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lang: Mapped[str] = mapped_column(String(5), default="zh", server_default="zh")  # the UI language chosen
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # for the handler role: which handler of the imported cases this account is (their own cases only)
    handler_id: Mapped[Optional[int]] = mapped_column(ForeignKey("handlers.id"))


class DeadlineEpisode(Base):
    """A stretch of a case's history in which one deadline applied (rules/episodes.py), kept for replaying
    the board at a past instant T with range queries: owed and overdue at T when due_at < T < open_until,
    at risk when warn_at <= T <= due_at < pending_until, both with active_from <= T. `pending_until` is when
    the deadline stopped being owed (fulfilled or superseded); `open_until` also ends at the case's closing.
    Open-ended times hold db.board.FAR_FUTURE, so every condition is a plain range."""

    __tablename__ = "deadline_episodes"
    __table_args__ = (
        Index("ix_deadline_episodes_case", "case_id"),
        # Only a deadline met late or not at all is ever overdue at some instant, and only one not met
        # before its warning time is ever at risk: partial indexes over just those keep the replay's scans
        # to the deadlines that matter (the queries repeat the conditions literally, for SQLite's planner).
        Index("ix_deadline_episodes_late", "open_until", "due_at", "active_from", "rule_id", "team_id",
              "handler_id", "category", "channel", sqlite_where=text("open_until > due_at"),
              postgresql_where=text("open_until > due_at")),
        Index("ix_deadline_episodes_risk", "due_at", "warn_at", "pending_until", "active_from", "rule_id",
              "team_id", "handler_id", "category", "channel", sqlite_where=text("pending_until > warn_at"),
              postgresql_where=text("pending_until > warn_at")),
        Index("ix_deadline_episodes_archive", "pending_until", "active_from", "team_id", "handler_id", "category",
              "channel", sqlite_where=text("rule_id = 'ARC-ARCHIVE'"), postgresql_where=text("rule_id = 'ARC-ARCHIVE'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(40))
    active_from: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pending_until: Mapped[datetime] = mapped_column(UTCDateTime)
    open_until: Mapped[datetime] = mapped_column(UTCDateTime)
    team_id: Mapped[Optional[int]] = mapped_column(Integer)
    handler_id: Mapped[Optional[int]] = mapped_column(Integer)
    category: Mapped[Optional[str]] = mapped_column(String(20))
    channel: Mapped[Optional[str]] = mapped_column(String(20))


class AlertPolicy(Base):
    """One version of the alert policy (domain/alerts.py); saving adds the next version."""

    __tablename__ = "alert_policies"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """The outbox: one message to one address through one channel, written once (unique key) by the sweep
    that decides it, then sent with retries. status: pending, sending, sent, failed, cancelled, unconfirmed
    (a worker stopped while sending: not sent again, so never twice)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_alerts_dedupe_key"),
        Index("ix_alerts_status_next", "status", "next_attempt_at"),
        Index("ix_alerts_created", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10))  # deadline | notice | digest | test
    case_id: Mapped[Optional[int]] = mapped_column(Integer)
    case_no: Mapped[Optional[str]] = mapped_column(String(64))
    rule_id: Mapped[Optional[str]] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(Integer, default=0)
    occurrence: Mapped[int] = mapped_column(Integer, default=0)
    target: Mapped[str] = mapped_column(String(20))  # handler | team | team_lead | manager
    channel: Mapped[str] = mapped_column(String(60))  # a channel id from the alert settings, or "email"
    address: Mapped[str] = mapped_column(String(200), default="")  # e-mail address or mobile to @mention
    body: Mapped[str] = mapped_column(Text)
    due_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    fire_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    claimed_by: Mapped[Optional[str]] = mapped_column(String(80))
    claimed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class Notice(Base):
    """A 督办 notice: a team lead presses a case's handler about one deadline, with a message and a
    reply-by time; the handler acknowledges it and answers (what was done, when the customer was
    contacted). Unanswered notices past their reply-by time show on the board."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_handler_answered", "handler_id", "answered_at"),
                      Index("ix_notices_case", "case_id"),
                      Index("ix_notices_open_reply_by", "reply_by", sqlite_where=text("answered_at IS NULL"),
                            postgresql_where=text("answered_at IS NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(40))
    handler_id: Mapped[int] = mapped_column(ForeignKey("handlers.id"))
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("teams.id"))
    message: Mapped[str] = mapped_column(Text)
    reply_by: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_by: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    answered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    answer: Mapped[Optional[str]] = mapped_column(Text)
    contacted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class RejectionReview(Base):
    """A supervisor's review of a rejected case (7.1.2): the ground confirmed (one of the three the
    standard permits) or the rejection overturned (the case should have been accepted), which is kept as a
    finding against the handler. One review per case; it fulfils SCOPE-REJECTED from `reviewed_at` on."""

    __tablename__ = "rejection_reviews"
    __table_args__ = (Index("ix_rejection_reviews_reviewed_at", "reviewed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(String(12))  # confirmed | overturned
    ground: Mapped[Optional[str]] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(80))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handler_id: Mapped[Optional[int]] = mapped_column(ForeignKey("handlers.id"))
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("teams.id"))


class WebSession(Base):
    """A browser sign-in that survives reloads, new tabs and shared links. The browser holds a random
    token signed with the server's secret (a cookie); the database holds only the token's SHA-256, so a
    copy of this table opens no session. Idle expiry, logout and account changes end the row."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_username", "username"),)
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    epoch: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed sign-ins per client address in a sliding window, counted atomically (one UPDATE per failure),
    so that many parallel guesses from one place are slowed down as surely as sequential ones."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who changed what, when, with the values before and after. Append-only: the app only inserts,
    database triggers refuse UPDATE, DELETE and TRUNCATE (and, on SQLite, INSERT OR REPLACE), and every row
    carries the hash of the previous one (`db.audit.verify_chain` finds the first broken link)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_actor", "actor"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[Optional[str]] = mapped_column(String(200))
    before: Mapped[Optional[str]] = mapped_column(Text)  # JSON
    after: Mapped[Optional[str]] = mapped_column(Text)  # JSON
    prev_hash: Mapped[Optional[str]] = mapped_column(String(64))
    row_hash: Mapped[Optional[str]] = mapped_column(String(64))


class Scorecard(Base):
    """One version of a scorecard (6.3). Versions are never edited: saving a change adds the next version,
    and every assessment keeps the version it was scored with."""

    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_scorecards_name_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[str] = mapped_column(Text)  # JSON list of items (see domain/scorecard.py)
    pass_mark: Mapped[float] = mapped_column(Float)
    dispute_hours: Mapped[float] = mapped_column(Float, default=72, server_default="72")  # handlers' window
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class SamplingPlan(Base):
    """A drawn sample: the population's definition, the method, its parameters and the random seed, so the
    same sample can be drawn again from the same data and defended."""

    __tablename__ = "sampling_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(20))  # regular | calibration
    method: Mapped[str] = mapped_column(String(20))  # random | stratified | quota | risk
    params: Mapped[str] = mapped_column(Text)  # JSON: population filters and method parameters
    seed: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the "as of" instant of the population
    population_size: Mapped[int] = mapped_column(Integer)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id"))
    created_by: Mapped[str] = mapped_column(String(80))


class SampleItem(Base):
    """One case of a sample assigned to one inspector. A calibration sample gives the same case to several
    inspectors, one item each. `version` counts saves of the item's assessment (optimistic locking)."""

    __tablename__ = "sample_items"
    __table_args__ = (UniqueConstraint("plan_id", "case_id", "assignee", name="uq_sample_items_plan_case_assignee"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("sampling_plans.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    assignee: Mapped[str] = mapped_column(String(80), default="", index=True)
    stratum: Mapped[Optional[str]] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=0)


class Assessment(Base):
    """An inspector's scoring of one sampled case against one scorecard version."""

    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    sample_item_id: Mapped[int] = mapped_column(ForeignKey("sample_items.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id"))
    inspector: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str] = mapped_column(String(20))  # copied from the plan: calibration is kept apart from scores
    handler_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    team_id: Mapped[Optional[int]] = mapped_column(Integer)
    score: Mapped[Optional[float]] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    critical_failed: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[Optional[str]] = mapped_column(Text)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # by the handler assessed


class Dispute(Base):
    """A handler's dispute of chosen items of an assessment of her case, each with a reason, within the
    scorecard's window; the inspector who assessed (or an admin) accepts it — the items are rescored and
    the earlier version kept in `assessment_versions` — or rejects it with a reason."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_status_opened", "status", "opened_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    handler_id: Mapped[Optional[int]] = mapped_column(Integer)
    items: Mapped[str] = mapped_column(Text)  # JSON {item_key: reason}
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10))  # open | accepted | rejected
    decided_by: Mapped[Optional[str]] = mapped_column(String(80))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    note: Mapped[Optional[str]] = mapped_column(Text)
    score_before: Mapped[Optional[float]] = mapped_column(Float)
    score_after: Mapped[Optional[float]] = mapped_column(Float)


class AssessmentVersion(Base):
    """An assessment as it stood before a dispute changed it (never edited)."""

    __tablename__ = "assessment_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    snapshot: Mapped[str] = mapped_column(Text)  # JSON: score, passed, verdicts
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(40))


class AssessmentItem(Base):
    __tablename__ = "assessment_items"
    __table_args__ = (UniqueConstraint("assessment_id", "item_key", name="uq_assessment_items_assessment_item"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(40))
    clause: Mapped[str] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(10))  # pass | fail | na
    engine_verdict: Mapped[Optional[str]] = mapped_column(String(10))
    engine_evidence: Mapped[Optional[str]] = mapped_column(Text)
    reason: Mapped[Optional[str]] = mapped_column(Text)  # why the inspector overrode the engine
    comment: Mapped[Optional[str]] = mapped_column(Text)


class TypicalMark(Base):
    """A case marked as typical for the case library (10.1.2). Never rewritten: editing a mark closes the
    current row and adds a new one, and unmarking closes it, so the history of every mark stays."""

    __tablename__ = "typical_marks"
    __table_args__ = (Index("ix_typical_marks_active_case", "active", "case_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    summary: Mapped[str] = mapped_column(Text)  # characteristics and patterns
    lesson: Mapped[Optional[str]] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of free tags
    clauses: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of clause numbers
    example: Mapped[Optional[str]] = mapped_column(String(4))  # good | bad
    marked_by: Mapped[str] = mapped_column(String(80))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    ended_by: Mapped[Optional[str]] = mapped_column(String(80))
    ended_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    end_reason: Mapped[Optional[str]] = mapped_column(String(20))  # edited | unmarked
    # The library's own copy: de-identified text and its search tokens (jieba), built when the mark is saved.
    library_text: Mapped[str] = mapped_column(Text, default="")
    tokens: Mapped[str] = mapped_column(Text, default="")


class TrainingSession(Base):
    """A training session held on typical cases (6.2), with who attended and which cases were used."""

    __tablename__ = "training_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    trainer: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[str] = mapped_column(Text)  # JSON list of names
    case_nos: Mapped[str] = mapped_column(Text)  # JSON list of case numbers
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class DeadlineHour(Base):
    """How many deadline obligations fall due in each UTC hour, by rule, state, team, category and channel.

    Kept in step with `obligations` by the code that replaces a case's obligations (db.obligations.store),
    so that the board's period statistics (on-time rates, breaches by day and hour) add up a few thousand
    of these rows instead of counting hundreds of thousands of obligations. Hours are UTC (epoch hours), so
    the local day and hour of any zone follow by arithmetic. Absent values are stored as 0 / ''.
    """

    __tablename__ = "deadline_hours"
    # The key plus the count: the period statistics are answered from the index alone (an index-only scan on
    # PostgreSQL once vacuumed; 25 ms -> 7 ms for a week at 1M cases).
    __table_args__ = (Index("ix_deadline_hours_covering", "hour", "rule_id", "state", "team_id", "category",
                            "channel", "n"),)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class CalibrationSession(Base):
    """A blind calibration round on a calibration sample: its lead, deadline and spread threshold. Answers
    stay hidden from the other participants until it closes (closed_at, or the deadline passing)."""

    __tablename__ = "calibration_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("sampling_plans.id", ondelete="CASCADE"), unique=True)
    lead: Mapped[str] = mapped_column(String(80))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    variance_threshold: Mapped[float] = mapped_column(Float, default=0.1)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_by: Mapped[Optional[str]] = mapped_column(String(80))


class CalibrationConsensus(Base):
    """The lead's agreed answer for one case and item of a closed calibration session."""

    __tablename__ = "calibration_consensus"
    __table_args__ = (UniqueConstraint("session_id", "case_id", "item_key", name="uq_calibration_consensus_answer"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("calibration_sessions.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(10))
    set_by: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CoachingSession(Base):
    """Coaching for one handler on chosen scorecard items (6.2, 6.3): the coach's note, typical cases to
    study, action items, a follow-up date; the handler acknowledges it; closing it records a training
    session with the handler as attendee."""

    __tablename__ = "coaching_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    handler_id: Mapped[int] = mapped_column(ForeignKey("handlers.id", ondelete="CASCADE"), index=True)
    items: Mapped[str] = mapped_column(Text)  # JSON list of scorecard item keys to work on
    note: Mapped[str] = mapped_column(Text)
    case_nos: Mapped[str] = mapped_column(Text)  # JSON list of typical cases to study
    source_assessment_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL"))
    follow_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    outcome: Mapped[Optional[str]] = mapped_column(Text)
    training_id: Mapped[Optional[int]] = mapped_column(ForeignKey("training_sessions.id", ondelete="SET NULL"))


class CoachingAction(Base):
    """One action item of a coaching session, with its due date; the handler marks it done."""

    __tablename__ = "coaching_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    coaching_id: Mapped[int] = mapped_column(ForeignKey("coaching_sessions.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class ImportProfile(Base):
    """A named import profile (#21): how one work-order system's export maps onto the interchange fields.
    `body` is the profile document as JSON (domain.importprofile.to_dict); every save is kept as a version."""

    __tablename__ = "import_profiles"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ImportProfileVersion(Base):
    """One saved state of a profile, with who saved it, when and why (kept when the profile is deleted,
    so an import's audit entry can still be read against the mapping it used)."""

    __tablename__ = "import_profile_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    profile_name: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(80))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("profile_name", "version"),)


class CustomerKey(Base):
    """The keyed hash of a case's customer phone number (domain.repeats.customer_key), never the number:
    repeat complaints are found by joining cases on it. `keyed_at` is the case's updated_at when it was
    keyed, so a key made before the phone was edited (updated_at differs) is made again."""

    __tablename__ = "customer_keys"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    customer_key: Mapped[Optional[str]] = mapped_column(String(32), index=True)
    keyed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Problem(Base):
    """A problem in the improvement register (10.2.1, CAPA): what goes wrong, the complaints that show it,
    its root cause and the state of its handling. The cases it counts for its complaint rate are those of
    `scope_category` with one of `scope_subcategories` (JSON list; empty: the whole category)."""

    __tablename__ = "problems"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    scope_category: Mapped[Optional[str]] = mapped_column(String(20))
    scope_subcategories: Mapped[str] = mapped_column(Text, default="[]")
    # when set, the problem counts the complaints of this cluster instead of category/subcategories
    scope_cluster_id: Mapped[Optional[int]] = mapped_column(ForeignKey("clusters.id", ondelete="SET NULL"))
    owner: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20), index=True)
    cause_category: Mapped[Optional[str]] = mapped_column(String(30))
    root_cause: Mapped[Optional[str]] = mapped_column(Text)
    whys: Mapped[str] = mapped_column(Text, default="[]")  # the 5-why chain, JSON list of up to 5 answers
    fixed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    close_reason: Mapped[Optional[str]] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class ProblemCase(Base):
    """A complaint linked to a problem as evidence of it."""

    __tablename__ = "problem_cases"
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProblemAction(Base):
    """An immediate, corrective or preventive action on a problem, with its owner, due date and evidence."""

    __tablename__ = "problem_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(80))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[Optional[str]] = mapped_column(Text)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProblemCheck(Base):
    """One effectiveness check: the problem's complaints in equal windows before and after the fix, the rate
    ratio with its 95 % interval, the one-sided p-value and the verdict (domain.effect)."""

    __tablename__ = "problem_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"), index=True)
    fixed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_days: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(10))
    before_count: Mapped[int] = mapped_column(Integer)
    after_count: Mapped[int] = mapped_column(Integer)
    before_exposure: Mapped[float] = mapped_column(Float)
    after_exposure: Mapped[float] = mapped_column(Float)
    ratio: Mapped[Optional[float]] = mapped_column(Float)
    low: Mapped[Optional[float]] = mapped_column(Float)
    high: Mapped[Optional[float]] = mapped_column(Float)
    p_value: Mapped[Optional[float]] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(20))
    checked_by: Mapped[str] = mapped_column(String(80))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Cluster(Base):
    """A specific problem found in complaint text (10.2.2 聚类问题清单), within one category. Its id lasts
    from run to run (a new run continues the cluster holding most of its cases); `pinned` clusters come from
    a manager's merge or split and keep their members through later runs."""

    __tablename__ = "clusters"
    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[Optional[str]] = mapped_column(String(200))
    terms: Mapped[str] = mapped_column(Text, default="[]")
    size: Mapped[int] = mapped_column(Integer, default=0)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    merged_into: Mapped[Optional[int]] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseCluster(Base):
    """Which cluster a case belongs to, how close it is to the cluster's centre (cosine), and how it got
    there: a full run, the assignment of a new case, or a manager's merge or split."""

    __tablename__ = "case_clusters"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    how: Mapped[str] = mapped_column(String(10))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClusterModel(Base):
    """What the last run of a category leaves to assign new cases: vocabulary, idf, the centroids and the
    cluster id of each centroid (JSON, domain.clustering.Model.to_dict plus `ids`)."""

    __tablename__ = "cluster_models"
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VerificationItem(Base):
    """A finding of the data checks (domain.verification.CHECKS) about one case (`key` = its number) or one
    handler (`key` = the name), and what a manager decided about it."""

    __tablename__ = "verification_items"
    __table_args__ = (UniqueConstraint("check_name", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    check_name: Mapped[str] = mapped_column(String(30), index=True)
    key: Mapped[str] = mapped_column(String(120))
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    detail: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[Optional[str]] = mapped_column(Text)
    decided_by: Mapped[Optional[str]] = mapped_column(String(80))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class Walk(Base):
    """One end-to-end walk of a case through the handling flow (domain.walk), by a manager or inspector; its
    shortfalls may be attached to a problem in the register."""

    __tablename__ = "walks"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    walker: Mapped[str] = mapped_column(String(80))
    walked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[Optional[str]] = mapped_column(Text)
    problem_id: Mapped[Optional[int]] = mapped_column(ForeignKey("problems.id", ondelete="SET NULL"))


class WalkStep(Base):
    __tablename__ = "walk_steps"
    walk_id: Mapped[int] = mapped_column(ForeignKey("walks.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[str] = mapped_column(String(30), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(10))
    note: Mapped[Optional[str]] = mapped_column(Text)
