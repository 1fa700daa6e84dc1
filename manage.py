#!/usr/bin/env python3
"""投诉督办台 command line.

    python manage.py init-db
    python manage.py seed --cases 5000 --seed 1
    python manage.py import cases.csv --contacts contacts.csv [--partial] [--dry-run]
    python manage.py import --watch /exports/inbox [--partial] [--profile P]
    python manage.py profile list|show NAME|export NAME [-o FILE]|import FILE
    python manage.py evaluate --now "2026-03-02 09:00" --format table
    python manage.py clusters run|assign
    python manage.py verify

The database is --db URL, else $COMPLAINTS_DB_URL, else data/complaints.sqlite3.
Exit codes: 0 success, 1 bad input or an unavailable database (with a message), 2 usage error.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Callable, Sequence

from domain.roles import ROLES
from domain.timeutil import TimeParseError, fmt_local, parse_instant
from services import commands


def _instant(text: str) -> datetime:
    from domain import clock
    from domain.timeutil import EARLIEST_DATE, latest_date, within_product_years

    try:
        value = parse_instant(text)
    except TimeParseError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; expected ISO 8601 such as 2026-03-01T09:30:00+08:00") from None
    if not within_product_years(value, clock.today()):
        raise argparse.ArgumentTypeError(f"{text!r} lies outside {EARLIEST_DATE} to {latest_date(clock.today())}, "
                                         "the years the product works in")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class Bar:
    """A small progress bar on stderr (only when it is a terminal, so cron logs stay clean)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()

    def __call__(self, done: float, total: float = 1.0) -> None:
        if not self.tty or not total:
            return
        frac = done / total
        sys.stderr.write(f"\r{self.label} [{'#' * int(frac * 30):<30}] {frac:5.0%}")
        if frac >= 1:
            sys.stderr.write("\n")
        sys.stderr.flush()


def cmd_init_db(args: argparse.Namespace) -> int:
    """Create or upgrade the schema (Alembic migrations); safe to run again.

    Example: python manage.py init-db --db postgresql+psycopg://postgres@127.0.0.1:5432/complaints
    """
    commands.init_db(args.db)
    print("database schema is up to date")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Add N realistic demo cases, reproducible from the seed (and --now), then evaluate every case.

    Example: python manage.py seed --cases 5000 --seed 1
    """
    n, contacts = commands.seed_cases(args.db, args.cases, args.seed, args.now, progress=Bar("evaluating"))
    print(f"seeded {n} cases with {contacts} new contacts (seed {args.seed})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import a cases file (and optionally a contacts file): CSV in UTF-8/GBK or XLSX, English or Chinese headers.

    All or nothing unless --partial, which writes the good rows and puts the bad ones with a reason into
    <file>.rejects.csv beside the input. Safe to run from cron on the latest export: re-importing updates,
    never duplicates, and two runs at once wait for each other. --dry-run says what would change (cases new
    and changed with their fields, rows rejected, flags that would appear or clear) and writes nothing.

    --profile P reads another work-order system's export through the saved import profile P (its columns,
    value spellings, time formats and contact columns); see `manage.py profile`.

    Example: python manage.py import exports/cases.xlsx --contacts exports/contacts.csv
    """
    if args.watch:
        if args.cases_file or args.contacts or args.dry_run:
            print("error: --watch imports the files in its folder; give no file, --contacts or --dry-run",
                  file=sys.stderr)
            return 2
        result = commands.watch_folder(args.db, args.watch, args.partial, log=print, settle=args.settle,
                                       profile=args.profile)
        print(f"watched {args.watch}: {len(result.done)} imported, {len(result.failed)} failed")
        return 1 if result.failed else 0
    if not args.cases_file:
        print("error: give CASES_FILE (or --watch DIR)", file=sys.stderr)
        return 2
    bar = Bar("checking" if args.dry_run else "importing")
    report = commands.import_exports(args.db, args.cases_file, args.contacts, args.partial,
                                     progress=lambda stage, frac: bar(frac), dry_run=args.dry_run,
                                     profile=args.profile)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in report.problems:
        print(f"error: {problem}", file=sys.stderr)
    if args.dry_run:
        print("\n".join(commands.dry_run_lines(report)))
        return 1 if report.problems else 0
    if report.problems and not report.written:
        print(f"import refused: {len(report.problems)} problem(s); nothing was written "
              "(use --partial to import the good rows)", file=sys.stderr)
        return 1
    print(report.summary())
    for path in report.reject_files:
        print(f"rejected rows written to {path}", file=sys.stderr)
    return 1 if report.problems else 0


def cmd_profile(args: argparse.Namespace) -> int:
    """Import profiles: list them, show or export one as YAML, import a YAML document as a new version.

    A YAML file keeps the mapping in version control; importing it again saves a new version.

    Example: python manage.py profile list
    Example: python manage.py profile export 省客服系统 -o profiles/省客服系统.yaml
    Example: python manage.py profile import profiles/省客服系统.yaml --note "回访时间 added"
    """
    if args.action == "list":
        if args.name or args.out:
            print("error: profile list takes no NAME or --out", file=sys.stderr)
            return 2
        rows = commands.list_profiles(args.db)
        for p in rows:
            print(f"{p.profile.name}\tv{p.version}\t{p.updated_by}\t{fmt_local(p.updated_at)}\t"
                  f"contacts: {p.profile.contacts_mode}")
        if not rows:
            print("no import profiles yet (create one on the 导入方案 page or with `profile import FILE`)")
        return 0
    if not args.name:
        print(f"error: profile {args.action} needs {'FILE' if args.action == 'import' else 'NAME'}", file=sys.stderr)
        return 2
    if args.action in ("show", "export"):
        text = commands.profile_yaml(args.db, args.name)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"profile {args.name} written to {args.out}")
        else:
            sys.stdout.write(text)
        return 0
    name, version = commands.import_profile(args.db, args.name, args.note or "")
    print(f"profile {name} saved as version {version}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run every rule as of --now (default: the current time) and print the flags.

    JSON: one array of {case_no, rule_id, clause, status, due_at, detail}, sorted by case_no then rule_id.
    Example: python manage.py evaluate --now 2026-03-02T09:00:00+08:00 --case TZ2026030100000001 --format json
    """
    now, result = commands.evaluate_flags(args.db, args.now, args.case, args.lang)
    if args.format == "json":
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(f"{'case_no':<22} {'rule_id':<20} {'clause':<16} {'status':<9} {'due_at':<17} detail")
        for r in result:
            due = fmt_local(datetime.fromisoformat(r["due_at"])) if r["due_at"] else ""
            print(f"{r['case_no']:<22} {r['rule_id']:<20} {r['clause']:<16} {r['status']:<9} {due:<17} {r['detail']}")
        print(f"{len(result)} flag(s) as of {fmt_local(now, seconds=True)}")
    return 0


def cmd_reevaluate(args: argparse.Namespace) -> int:
    """Re-evaluate every case and replace the stored obligations (after a rule or threshold change).

    Example: python manage.py reevaluate
    """
    n = commands.reevaluate(args.db, progress=Bar("re-evaluating"))
    print(f"stored {n} obligations")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create an account (the first admin, for instance). The password is read from standard input, never
    from the command line, so it does not end up in the shell history.

    A handler (处理人) account names the handler of the imported cases it belongs to with --handler.
    Example: python manage.py create-user admin --role admin --name 王主管 < password.txt
    """
    import getpass

    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    commands.create_user(args.db, args.username, args.name or args.username, args.role, password,
                         actor=f"cli:{getpass.getuser()}", handler=args.handler)
    print(f"created user {args.username} ({args.role})")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the embedded SQLite database to a file while the app keeps running (SQLite's online backup).

    For PostgreSQL use pg_dump instead (see README). Example: python manage.py backup backups/complaints-2026-11-29.sqlite3
    """
    target = commands.backup(args.db, args.target)
    print(f"backup written to {target}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the embedded SQLite database with a backup (checked first; stop the app while restoring).

    Example: python manage.py restore backups/complaints-2026-11-29.sqlite3
    """
    commands.restore(args.db, args.source)
    print(f"restored from {args.source}")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Check that the audit log is complete and unaltered: every row must carry the hash of the one before it.

    Exit 0 when the chain holds (the head hash is printed: keep it somewhere else to detect a rewrite of
    the whole chain later), 1 naming the first broken row. Example: python manage.py audit-verify
    """
    report = commands.audit_verify(args.db)
    if report.broken_at is not None:
        print(f"error: audit log broken at row id {report.broken_at}: {report.reason} "
              f"({report.rows - 1} row(s) before it verified)", file=sys.stderr)
        return 1
    print(f"audit log intact: {report.rows} row(s), head {report.head}")
    return 0


def _day(text: str):
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r}; expected YYYY-MM-DD such as 2026-11-29") from None


def cmd_alerts(args: argparse.Namespace) -> int:
    """Run the alert worker: one sweep (for cron, every minute), or --loop as a long-running process.

    A sweep writes what has fallen due to the outbox once, sends what may go now (robots, e-mail), retries
    failures with backoff and records a heartbeat. Two workers at once never send the same message.
    Settings (robots, secrets, SMTP) come from $COMPLAINTS_ALERTS_CONFIG or .streamlit/secrets.toml.
    Example: python manage.py alerts --loop --interval 60
    """
    from services import alerts

    if args.loop:
        try:
            alerts.loop(args.db, args.interval)
        except KeyboardInterrupt:
            print("alert worker stopped")
        return 0
    result = alerts.sweep(args.db, args.now)
    print(", ".join(f"{k} {v}" for k, v in result.items()))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the daily or weekly supervision report (the 督办报告 page's) as PDF or XLSX, by the file's ending.

    A week is the Monday-to-Sunday week containing --date; --team limits it to one team (default: the
    whole centre). Example: python manage.py report --period week --date 2026-11-25 --team 网络投诉一组 --out week.pdf
    """
    path = commands.make_report(args.db, args.period, args.date, args.team, args.out)
    print(f"report written to {path}")
    return 0


def cmd_clusters(args: argparse.Namespace) -> int:
    """The clustered problem list (10.2.2): `run` clusters every category's complaints again (ids kept from
    run to run; a manager's merges and splits kept), `assign` puts complaints imported since into their
    nearest cluster without a run.

    Example: python manage.py clusters run          # nightly
    Example: python manage.py clusters assign       # after each import
    """
    if args.action == "run":
        summary = commands.cluster_run(args.db)
        print("clusters: " + ", ".join(f"{c} {n}" for c, n in summary.items()) if summary else "no complaints to cluster")
    else:
        print(f"{commands.cluster_assign(args.db)} complaints assigned")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Run the data checks (10.2.2) and print the open findings per check; decide them on the 数据核查 page.

    Example: python manage.py verify
    """
    counts = commands.verify(args.db)
    for check, n in counts.items():
        print(f"{check}\t{n}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "init-db": cmd_init_db,
    "seed": cmd_seed,
    "import": cmd_import,
    "profile": cmd_profile,
    "evaluate": cmd_evaluate,
    "reevaluate": cmd_reevaluate,
    "create-user": cmd_create_user,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "audit-verify": cmd_audit_verify,
    "report": cmd_report,
    "alerts": cmd_alerts,
    "clusters": cmd_clusters,
    "verify": cmd_verify,
}


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", help="SQLAlchemy database URL (default: $COMPLAINTS_DB_URL or data/complaints.sqlite3)")
    parser = argparse.ArgumentParser(prog="manage.py", description="投诉督办台 command line",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str) -> argparse.ArgumentParser:
        doc = COMMANDS[name].__doc__ or ""
        return sub.add_parser(name, parents=[common], help=doc.splitlines()[0], description=doc,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    add("init-db")
    p = add("seed")
    p.add_argument("--cases", type=_positive, required=True, metavar="N")
    p.add_argument("--seed", type=int, default=1, metavar="S")
    p.add_argument("--now", type=_instant, help="the instant the demo timelines end at (default: now)")
    p = add("import")
    p.add_argument("cases_file", metavar="CASES_FILE", nargs="?")
    p.add_argument("--contacts", metavar="CONTACTS_FILE")
    p.add_argument("--partial", action="store_true", help="write the good rows; bad rows go to a reject file")
    p.add_argument("--watch", metavar="DIR",
                   help="import every export in DIR once, moving each to DIR/done or DIR/failed with a report")
    p.add_argument("--settle", type=float, default=5.0, metavar="SECONDS",
                   help="with --watch: leave files changed in the last SECONDS (still being copied) for the next pass")
    p.add_argument("--dry-run", action="store_true",
                   help="check, write and evaluate in a transaction that is rolled back: say what would change")
    p.add_argument("--profile", metavar="P", help="read the files through the saved import profile P")
    p = add("profile")
    p.add_argument("action", choices=("list", "show", "export", "import"))
    p.add_argument("name", nargs="?", metavar="NAME|FILE", help="the profile's name (show, export) or a YAML file (import)")
    p.add_argument("-o", "--out", metavar="FILE", help="export: write the YAML here instead of printing it")
    p.add_argument("--note", help="import: why this version was saved")
    p = add("evaluate")
    p.add_argument("--now", type=_instant)
    p.add_argument("--case", metavar="CASE_NO")
    p.add_argument("--format", choices=("json", "table"), default="table")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the detail text")
    add("reevaluate")
    p = add("create-user")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--name", help="display name")
    p.add_argument("--handler", metavar="NAME", help="for --role handler: the handler name used in the imported cases")
    p = add("backup")
    p.add_argument("target", metavar="FILE")
    p = add("restore")
    p.add_argument("source", metavar="FILE")
    add("audit-verify")
    p = add("alerts")
    p.add_argument("--loop", action="store_true", help="keep sweeping until stopped")
    p.add_argument("--interval", type=_positive, default=60, metavar="SECONDS")
    p.add_argument("--now", type=_instant, help="sweep as of this instant (one sweep only)")
    p = add("clusters")
    p.add_argument("action", choices=("run", "assign"))
    add("verify")
    p = add("report")
    p.add_argument("--period", choices=("day", "week"), required=True)
    p.add_argument("--date", type=_day, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--team", metavar="TEAM", help="one team (default: the whole centre)")
    p.add_argument("--out", required=True, metavar="FILE", help="ends in .pdf or .xlsx")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import logging

    # psycopg logs the pipeline it abandons after a refused statement ("error ignored terminating …"); the
    # refusal itself is said below, once, in words
    logging.getLogger("psycopg").setLevel(logging.ERROR + 1)
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except commands.USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept", file=sys.stderr)
        return 1
    except Exception as exc:  # the database's refusal, in words; anything else is a bug and keeps its traceback
        said = commands.database_refusal(exc)
        if said is None:
            raise
        print(f"error: {said}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
