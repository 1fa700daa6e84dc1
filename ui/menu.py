"""The menu: every page with its section, key (as in domain.roles.PAGES), file, title key and icon."""
from __future__ import annotations

PAGES = [
    ("nav.mine", "mytodo", "pages/mytodo.py", "page.mytodo", ":material/assignment_ind:"),
    ("nav.mine", "myqa", "pages/myqa.py", "page.myqa", ":material/grading:"),
    ("nav.team_lead", "board", "pages/board.py", "page.board", ":material/monitoring:"),
    ("nav.team_lead", "reviews", "pages/reviews.py", "page.reviews", ":material/gavel:"),
    ("nav.quality", "assess", "pages/assess.py", "page.assess", ":material/fact_check:"),
    ("nav.quality", "sampling", "pages/sampling.py", "page.sampling", ":material/casino:"),
    ("nav.quality", "quality", "pages/quality.py", "page.quality", ":material/leaderboard:"),
    ("nav.quality", "calibration", "pages/calibration.py", "page.calibration", ":material/tune:"),
    ("nav.quality", "coaching", "pages/coaching.py", "page.coaching", ":material/record_voice_over:"),
    ("nav.quality", "disputes", "pages/disputes.py", "page.disputes", ":material/balance:"),
    ("nav.quality", "scorecards", "pages/scorecards.py", "page.scorecards", ":material/checklist:"),
    ("nav.library", "library", "pages/library.py", "page.library", ":material/menu_book:"),
    ("nav.library", "training", "pages/training.py", "page.training", ":material/school:"),
    ("nav.library", "archive", "pages/archive.py", "page.archive", ":material/inventory_2:"),
    ("nav.supervision", "search", "pages/search.py", "page.search", ":material/search:"),
    ("nav.supervision", "detail", "pages/case_detail.py", "page.detail", ":material/description:"),
    ("nav.rules", "rules", "pages/rule_settings.py", "page.rules", ":material/rule:"),
    ("nav.data", "import", "pages/import_data.py", "page.import", ":material/upload_file:"),
    ("nav.data", "profiles", "pages/import_profiles.py", "page.profiles", ":material/schema:"),
    ("nav.reports", "reports", "pages/reports.py", "page.reports", ":material/summarize:"),
    ("nav.reports", "alerts", "pages/alerts.py", "page.alerts", ":material/notifications_active:"),
    ("nav.reports", "notice", "pages/notice.py", "page.notice", ":material/campaign:"),
    ("nav.improvement", "clusters", "pages/clusters.py", "page.clusters", ":material/bubble_chart:"),
    ("nav.improvement", "problems", "pages/problems.py", "page.problems", ":material/troubleshoot:"),
    ("nav.improvement", "repeats", "pages/repeats.py", "page.repeats", ":material/replay:"),
    ("nav.improvement", "verification", "pages/verification.py", "page.verification", ":material/fact_check:"),
    ("nav.improvement", "walk", "pages/walk.py", "page.walk", ":material/route:"),
    ("nav.admin", "audit", "pages/audit.py", "page.audit", ":material/history:"),
    ("nav.admin", "users", "pages/users.py", "page.users", ":material/group:"),
]
URLS = {"detail": "case"}
# the page a role lands on when it is not the first one it may open in the menu's order
LANDING = {"manager": "clusters"}
