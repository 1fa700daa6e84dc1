"""What each rule is: id, clause, concern (the durable-rules ruleset it lives in), titles and a short
explanation in our own words. Ids never change meaning (obligations.md)."""
from __future__ import annotations

from dataclasses import dataclass

# Outcome codes produced by the rules. Deadline rules: met / pending / at_risk / missed / late;
# other rules: breached / review. A rule that does not apply produces nothing.
FLAG_STATUS = {"at_risk": "at_risk", "missed": "breached", "late": "breached", "breached": "breached",
               "review": "review"}
# How an outcome is stored: `open` deadlines get their status from due_at and the query's now.
STORED_STATE = {"met": "met", "pending": "open", "at_risk": "open", "missed": "open", "late": "breached",
                "breached": "breached", "review": "review"}
SEVERITY = {"met": 0, "pending": 1, "at_risk": 2, "review": 3, "missed": 4, "late": 5, "breached": 5}


@dataclass(frozen=True)
class Rule:
    id: str
    clause: str
    concern: str  # deadlines | scope | records | satisfaction | archive
    kind: str  # deadline | check
    title_zh: str
    title_en: str
    explain_zh: str
    explain_en: str
    prefix: str = ""  # fact-field prefix of a deadline rule
    threshold: str = ""  # the threshold it depends on


RULES: tuple[Rule, ...] = (
    Rule("SLA-FIRST-CONTACT", "8.3.5", "deadlines", "deadline", "24小时内首次联系客户", "First contact within 24 h",
         "受理登记后，处理人须在时限内与客户取得第一次联系；任何类型的联系都算。",
         "After registration the handler must reach the customer once within the limit; any kind of contact counts.",
         "fc", "first_contact_hours"),
    Rule("SLA-FINAL-RESULT", "8.3.1, 8.3.5", "deadlines", "deadline", "48小时内答复最终处理结果", "Final result within 48 h",
         "最终结果答复须在时限内送达客户；若在到期前已申报为需长时间解决，则改按进度告知规则检查。",
         "The final answer must reach the customer in time; a case declared long-running before this due is checked by the progress rule instead.",
         "fr", "final_result_hours"),
    Rule("SLA-PROGRESS", "8.3.5", "deadlines", "deadline", "长期处理案件按期告知进度", "Progress updates on long-running cases",
         "需长时间解决的案件，从申报之时起，相邻两次联系之间不得超过约定间隔（未约定时用默认间隔），直至给出最终结果。",
         "From the long-running declaration on, no gap between consecutive contacts may exceed the agreed interval (or the default) until the final result.",
         "pg", "progress_interval_hours"),
    Rule("SLA-PROMISED-REPLY", "4.1, 8.2.2, 8.2.3", "deadlines", "deadline", "按承诺时间回复客户", "Reply by the promised time",
         "受理时向客户承诺或约定了回复时间的，须在该时间之前（含）再次联系客户。",
         "Where a reply time was promised or agreed, a contact must follow registration no later than that time.",
         "pr"),
    Rule("SCOPE-REJECTED", "7.1.2", "scope", "check", "不予受理待复核", "Rejection awaits review",
         "每一件不予受理的投诉都请主管确认理由是否成立。",
         "Every rejected complaint is put before a supervisor to confirm the ground."),
    Rule("SCOPE-GROUND", "7.1.2", "scope", "check", "不予受理理由须合规", "Rejection ground must be valid",
         "不予受理只能以超出经营范围、超出服务范围或超出服务时限为由，且必须写明。",
         "A rejection must state one of the three permitted grounds: outside the business scope, outside the service scope, or past the time limit."),
    Rule("SCOPE-NOTICE", "4.1, 8.3.4", "scope", "deadline", "及时告知不予受理", "Rejection told in time",
         "不予受理的决定须在时限内告知客户（本产品的解读：与其他答复同样及时）。",
         "The customer must hear of a rejection within the limit (our reading: as fast as any other answer).",
         "sn", "rejection_notice_hours"),
    Rule("REC-ACCEPTANCE", "8.2.1, 8.2.2", "records", "check", "受理记录完整", "Acceptance record complete",
         "受理时应记下投诉内容、真实原因、客户诉求和承诺回复时间，并与客户逐项确认。",
         "At acceptance the record needs the complaint, its true reason, the customer's demand, a promised reply time, and the items confirmed with the customer."),
    Rule("REC-TRANSFER", "8.3.2", "records", "check", "转派记录四要素齐全", "Transfer record has its four parts",
         "转派其他部门核实的案件，须按事件还原、客户诉求、存在问题、解决措施四部分记录。",
         "A case passed to another department needs its four-part record: what happened, the demand, the problem found and the measures."),
    Rule("REC-DEPT-SOLUTION", "8.3.3", "records", "check", "责任部门给出解决方案", "Department gave a solution",
         "转派过的案件办结时，应有责任部门核查后给出的解决方案。",
         "A transferred case that is closed must carry the solution the responsible department proposed."),
    Rule("REC-DECISION", "8.3.6", "records", "check", "形成处理决定并留存", "Handling decision recorded",
         "每件办结的投诉都要有书面的处理决定。",
         "Every closed complaint must have its handling decision on record."),
    Rule("SAT-SURVEY", "9.1", "satisfaction", "check", "办结前回访满意度", "Satisfaction survey before closing",
         "满意度回访应在办结之前完成。",
         "The satisfaction survey must happen before the case is closed."),
    Rule("SAT-ROOT-CAUSE", "9.2", "satisfaction", "check", "查明不满意根由", "Cause of dissatisfaction found",
         "客户不满意时，处理人要查清原因并记录。",
         "When the customer is dissatisfied the handler must find and record why."),
    Rule("SAT-ALTERNATIVES", "9.3", "satisfaction", "check", "诉求过高时提供替代方案", "Alternatives for excessive demands",
         "客户诉求过高无法满足时，应提出替代方案供其选择；未办结时提醒复核，办结仍未提供则违规。",
         "When a demand cannot be met, alternatives must be offered: a review while open, a breach once closed without any."),
    Rule("ARC-ARCHIVE", "10.1.1", "archive", "deadline", "办结后及时归档", "Archived promptly after closing",
         "办结后应在时限内整理归档全部材料。",
         "After closing, the case's materials must be archived within the limit.",
         "ar", "archive_days"),
    Rule("ARC-TYPICAL", "10.1.2", "archive", "check", "典型案例须总结特点与规律", "Typical case summarised",
         "标记为典型的案例要写明其特点与规律，才能进入案例库。",
         "A case marked typical needs its characteristics and patterns written up for the case library."),
)

BY_ID = {r.id: r for r in RULES}
CONCERNS = ("deadlines", "scope", "records", "satisfaction", "archive")
DEADLINE_RULES = tuple(r for r in RULES if r.kind == "deadline")
# The version of the rule definitions; bump it whenever a condition changes so that stored obligations show
# which logic produced them (and a re-evaluation can be started for old rows).
RULES_VERSION = "2026.11.2"  # .2: SCOPE-REJECTED is fulfilled by a recorded review (7.1.2)
