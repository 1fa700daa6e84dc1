"""De-identification of free text for the case library and training packs (10.1.2, 6.2).

Masking the name and phone columns is not enough: Chinese work orders repeat the customer's number, ID
card, bank card, e-mail, home address, broadband account and staff numbers inside the text. Each is
replaced by a placeholder naming what was removed, so a trainer still understands the story.
The order matters: long digit runs (ID, bank card) before phone numbers, e-mail before accounts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

PLACEHOLDERS = {
    "email": "[邮箱]", "id_card": "[身份证号]", "bank_card": "[银行卡号]", "mobile": "[手机号]",
    "landline": "[固话]", "account": "[账号]", "staff_no": "[工号]", "address": "[地址]", "name": "[姓名]",
}

_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    # 18-digit resident ID: area code, birth date, sequence, check digit (also the old 15-digit form)
    ("id_card_checked", re.compile(_NOT_ALNUM_BEFORE + r"\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
                                   r"\d{3}[\dXx]" + _NOT_ALNUM_AFTER)),
    ("id_card", re.compile(_NOT_ALNUM_BEFORE + r"\d{8}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}" + _NOT_ALNUM_AFTER)),
    # bank cards: 16-19 digits, often written in groups of four; with no keyword only when the Luhn check
    # digit fits (order numbers and serials of that length do not, and must stay for trainers)
    ("bank_card_luhn", re.compile(_NOT_ALNUM_BEFORE + r"\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?" + _NOT_ALNUM_AFTER)),
    ("mobile", re.compile(_NOT_ALNUM_BEFORE + r"(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}" + _NOT_ALNUM_AFTER)),
    ("landline", re.compile(_NOT_ALNUM_BEFORE + r"(?:\(0\d{2,3}\)|0\d{2,3})[ -]?(?:\d{7,8}|\d{3,4}[ -]\d{4})(?:-\d{1,5})?"
                            + _NOT_ALNUM_AFTER)),
    # after a keyword: only the part in the group `pii` is replaced, the keyword stays
    ("landline", re.compile(r"(?:固话|座机)[:：]?\s*(?P<pii>[2-9]\d{6,7})" + _NOT_ALNUM_AFTER)),
    ("account", re.compile(r"(?:宽带账号|宽带帐号|宽带账户|宽带号码|上网账号|认证账号|账号|帐号|户号)[:：为是]?\s*"
                           r"(?P<pii>[A-Za-z0-9_.@-]{5,})")),
    ("staff_no", re.compile(r"工号[:：为是]?\s*(?P<pii>[A-Za-z0-9]{3,})")),
    # numbers that only their label gives away: a card or ID written short, a QQ number, a WeChat id, a
    # landline without its area code after 电话/号码/联系方式
    ("bank_card", re.compile(r"(?:卡号|银行卡号?|银联卡号?|信用卡号?)[:：为是]?\s*(?P<pii>\d{8,19})" + _NOT_ALNUM_AFTER)),
    ("id_card", re.compile(r"身份证(?:号码|号)?[:：为是]?\s*(?P<pii>[\d*]{4,17}[\dXx*]?)" + _NOT_ALNUM_AFTER)),
    ("account", re.compile(r"(?:QQ号?|qq号?)[:：为是]?\s*(?P<pii>\d{5,11})" + _NOT_ALNUM_AFTER)),
    ("account", re.compile(r"(?:微信号|微信)[:：为是]?\s*(?P<pii>[A-Za-z][A-Za-z0-9_-]{5,19})" + _NOT_ALNUM_AFTER)),
    ("landline", re.compile(r"(?:电话|号码|联系方式)[:：为是]?\s*(?P<pii>[2-9]\d{6,7})" + _NOT_ALNUM_AFTER)),
]

# Names the text gives away by a label (联系人：郭某, 操作员:孙某某) or by a title after a common surname
# (赵小姐, 周师傅): the name is replaced, the label or title stays.
_LABELS = "操作员|联系人|客户名称|客户姓名|姓名|机主|受理人|经办人|投诉人|反映人|户主|用户名称"
_AFTER_NAME = (r"(?=$|[^\u4e00-\u9fa5]|先生|女士|小姐|师傅|老师|反映|来电|称|表示|要求|投诉|电话|手机|号码|联系|的|于|在"
               r"|已|将|处理|办理|受理|告知|回复|答复|确认|同意|说|解释|说明|上门|回访|核实|致歉|道歉|查询|核查|跟进|反馈|复核)")
_LABELLED_NAME = re.compile(rf"(?:{_LABELS})[:：为是]?\s*(?P<pii>[\u4e00-\u9fa5]{{2,3}}){_AFTER_NAME}")
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
            "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
            "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
            "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
_TITLED_NAME = re.compile(rf"(?:(?<![\u4e00-\u9fa5])|(?<=客户)|(?<=用户)|(?<=机主)|(?<=来电)|(?<=致电))"
                          rf"(?P<pii>[{SURNAMES}][\u4e00-\u9fa5]?)(?=先生|女士|小姐|师傅)"
                          rf"|(?<=[^\u4e00-\u9fa5])(?P<pii2>[{SURNAMES}])(?=先生|女士|小姐|师傅)")

# A colleague named by her role without a colon (营业员苏建解释…, 装维师傅 not): the name must start with a
# common surname, which keeps 营业员态度恶劣 and 客服人员表示 as they are.
_ROLES = ("营业员|客服代表|客服专员|客服|话务员|坐席|装维人员|装维|维护人员|工程师|客户经理|网格经理|班长|组长|主任"
          "|本人|母亲|父亲|妻子|丈夫|儿子|女儿|爱人|老公|老婆|亲属|家属|朋友|同事|邻居")
_ROLE_NAME = re.compile(rf"(?:{_ROLES})(?!师傅|老师|先生|女士|小姐|人员|同事|同志)"
                        rf"(?P<pii>[{SURNAMES}][\u4e00-\u9fa5]{{1,2}}?){_AFTER_NAME}")

# Full-width forms (１３８…, ＡＢＣ, －) are matched as their half-width selves; the original characters
# are kept wherever nothing is masked.
# Only what the patterns read as digits, letters and number punctuation: Chinese punctuation (，：；) is
# left as it is (the patterns accept both forms), so most texts need no mapping back at all.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B),
                                          0xFF08, 0xFF09, 0xFF0B, 0xFF0D, 0xFF0E, 0xFF03, 0xFF20, 0xFF3F)} \
    | {0x3000: 0x20, 0x2014: 0x2D, 0x2013: 0x2D, 0x2212: 0x2D}

# An address is found by its house-level part — building, unit, room, group and number in the forms work
# orders write them (3栋2单元1102室, C栋, A座1203, 一单元, 12-3-1102, 3#楼502, 5组12号, 18号3幢1504) — right after a
# place word (road, estate, village: 路 街 巷 村 庄 组 小区 花园 府 城 庭 园 苑 宿舍 住宅区 …), then widened to the left
# over the place names (estate, road and number, town, district, city, province) up to punctuation or the
# words that lead into an address (家住, 住址, 地址, 位于, 在 …), which stay. A place with no house-level part
# (a district, a road named in passing) is no address and stays.
_UNIT = r"(?:\d+|[A-Za-z]|[一二三四五六七八九十]{1,3})\s*(?:号楼|栋|幢|座|单元|层|楼|室|户|号|组|弄|#楼?)"
_DASHED = r"\d{1,3}-\d{1,3}(?:-\d{1,5})?(?:室)?"
_HOUSE = re.compile(rf"(?:{_DASHED}|{_UNIT})(?:\s*(?:{_UNIT}|{_DASHED}))*(?:\s*\d{{3,4}}(?![\d号栋幢座室层楼元]))?")
_PLACE_END = ("住宅区", "小区", "花园", "公寓", "新村", "家园", "大厦", "广场", "公馆", "山庄", "名邸", "宿舍", "社区", "大道",
              "路", "街", "巷", "弄", "村", "庄", "组", "舍", "垛", "湾", "苑", "府", "城", "庭", "园", "院", "里", "郡", "邸",
              "号", "镇", "乡")
_LEAD_INS = ("装机地址", "安装地址", "客户住址", "家庭住址", "联系地址", "其家住", "我家住", "家住", "住在", "住址", "地址", "位于",
             "居住在", "居住", "坐落于", "寄往", "寄到", "寄至", "发往", "送往", "送到", "搬到", "搬至", "前往", "来自",
             "在", "于", "到", "至", "住")
_ADMIN = re.compile(r"(?:[\u4e00-\u9fa5]{1,7}?(?<!小)(?<!住宅)(?<!社)(?<!园)(?<!校)(?<!景)"
                    r"(?:省|自治区|市|区|县|镇|乡|街道))+")
_ADDRESS_CHAR = re.compile(r"[\u4e00-\u9fa5A-Za-z0-9#\-]")
@dataclass(frozen=True)
class Scrubbed:
    text: str
    kinds: tuple[str, ...]  # what was removed, once per kind, in order of appearance


def luhn_ok(digits: str) -> bool:
    digits = re.sub(r"\D", "", digits)
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return len(digits) >= 12 and total % 10 == 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_ok(number: str) -> bool:
    """The last character of an 18-digit resident ID is a checksum of the other 17 (ISO 7064 MOD 11-2)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    return "10X98765432"[sum(int(d) * w for d, w in zip(number, _ID_WEIGHTS)) % 11] == number[17].upper()


# What must stay although it looks like personal data: order and serial numbers after their label, the
# operator's hotlines and SMS ports, its mailboxes (service@…, anything @10086.cn or chinamobile.com),
# system accounts, and the addresses of its own halls. Found first and set aside while the rest is masked.
SYSTEM_ACCOUNTS = {"system", "admin", "yjboss", "boss", "crm", "auto", "robot", "sysadmin", "esop", "ngcrm", "root"}
ROLE_MAILBOXES = {"service", "callcenter", "kefu", "support", "noreply", "no-reply", "admin", "info", "hr", "10086",
                  "webmaster", "postmaster", "feedback"}
OPERATOR_DOMAINS = ("10086.cn", "chinamobile.com", "chinaunicom.cn", "chinatelecom.cn", "189.cn")
_KEEP = [
    re.compile(r"(?:订单号|订单编号|流水号|交易流水号?|交易号|业务流水号?|工单号|工单编号|受理单号|投诉单号|单号|业务单号|批次号)"
               r"[:：为是]?\s*(?P<keep>[A-Za-z0-9][A-Za-z0-9-]{5,})"),
    re.compile(_NOT_ALNUM_BEFORE + r"(?P<keep>10086|10010|10000|10001|12300|12315|12345|95\d{3}|400-?\d{3}-?\d{4}"
               r"|800-?\d{3}-?\d{4}|106\d{5,17})" + _NOT_ALNUM_AFTER),
    re.compile(r"(?:工号|操作员|账号|帐号|用户名)[:：为是]?\s*(?P<keep>(?i:" + "|".join(sorted(SYSTEM_ACCOUNTS)) + r"))"
               + _NOT_ALNUM_AFTER),
    re.compile(r"(?P<keep>(?:[\u4e00-\u9fa5]{2,12}?[路街道巷](?:\d+号)?|[\u4e00-\u9fa5]{2,12}?(?:广场|大厦|中心))"
               r"(?:中国)?移动(?:营业厅|自有厅|旗舰店|服务厅|专营店|体验店))"),
    re.compile(r"(?P<keep>[\u4e00-\u9fa5]{2,12}?[路街道巷]\d+号(?:营业厅|自有厅|旗舰店|服务厅))"),
]
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _operator_mailbox(address: str) -> bool:
    local, _, domain = address.lower().partition("@")
    return local in ROLE_MAILBOXES or any(domain == d or domain.endswith("." + d) for d in OPERATOR_DOMAINS)


def _set_aside(text: str) -> tuple[str, list[str]]:
    """Replace what must stay by single private-use characters (no pattern matches them)."""
    kept: list[str] = []

    def hold(value: str) -> str:
        kept.append(value)
        return chr(0xE000 + len(kept) - 1)

    for pattern in _KEEP:
        text = pattern.sub(lambda m: m.group(0)[:m.start("keep") - m.start()] + hold(m.group("keep"))
                           + m.group(0)[m.end("keep") - m.start():], text)
    text = _EMAIL.sub(lambda m: hold(m.group(0)) if _operator_mailbox(m.group(0)) else m.group(0), text)
    return text, kept


def _put_back(text: str, kept: list[str]) -> str:
    if not kept:
        return text
    return re.sub("[\ue000-\uf8ff]", lambda m: kept[ord(m.group(0)) - 0xE000]
                  if ord(m.group(0)) - 0xE000 < len(kept) else m.group(0), text)


@lru_cache(maxsize=4096)
def _names_pattern(names: tuple[str, ...], roster: tuple[str, ...] = ()) -> re.Pattern[str] | None:
    """One pattern for every form of the customer's names — the full name, the surname with a title, the
    given name of two characters or more — and the full names of the roster (colleagues: their given names
    alone would catch words such as 建国 in 建国路), longest first, compiled once per customer and roster."""
    forms: set[str] = {re.escape(n) for n in roster if len(n) >= 2}
    for name in names:
        forms.add(re.escape(name))
        if len(name) >= 2:
            forms.add(re.escape(name[0]) + "(?:先生|女士|小姐|老师|师傅|阿姨|大爷)")
            if len(name) >= 3:
                forms.add(re.escape(name[1:]))
    if not forms:
        return None
    return re.compile("|".join(sorted(forms, key=len, reverse=True)))


def _replacer(placeholder: str):
    def replace(m: re.Match[str]) -> str:
        if "pii" not in m.re.groupindex:
            return placeholder
        whole, start, end = m.group(0), m.start("pii") - m.start(), m.end("pii") - m.start()
        return whole[:start] + placeholder + whole[end:]
    return replace


def scrub(text: str | None, names: list[str] | tuple[str, ...] = (), roster: tuple[str, ...] = ()) -> Scrubbed:
    """The text with personal data replaced by placeholders such as `[手机号]`; `names` are the customer's,
    `roster` the full names of the centre's staff."""
    if not text:
        return Scrubbed("", ())
    original = str(text)
    half = original.translate(_HALF_WIDTH)  # one character for one: positions stay the same
    result = _scrub(half, names, roster)
    if half == original or result.text == half:
        return result if half == original else Scrubbed(original, result.kinds)
    # put the original (full-width) characters back wherever the scrubbed text kept the text as it was
    pieces = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, half, result.text, autojunk=False).get_opcodes():
        pieces.append(original[a1:a2] if op == "equal" else result.text[b1:b2])
    return Scrubbed("".join(pieces), result.kinds)


def _address_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _HOUSE.finditer(text):
        before = text[:m.start()]
        if not before.endswith(_PLACE_END) or re.search(r"[\d号栋幢座室]$", before[-1:]) and not before.endswith("号"):
            continue
        if before.endswith("号") and not re.search(r"\d号$", before):
            continue  # 编号, 账号, 单号: no address
        start = m.start()
        while start > 0 and _ADDRESS_CHAR.match(text[start - 1]) and m.start() - start < 40:
            if any(text[:start].endswith(lead) for lead in _LEAD_INS):
                break
            start -= 1
        # the province, city, district and town stay (a trainer reads where the network failed); the
        # road, estate or village and everything below it go
        admin = _ADMIN.match(text, start, m.start())
        if admin and admin.end() < m.start():
            start = admin.end()
        # the place part must hold a place word of its own, not only the number before the house part
        place = text[start:m.start()]
        if not re.search(r"[\u4e00-\u9fa5]{2}", place):
            continue
        spans.append((start, m.end()))
    merged: list[tuple[int, int]] = []  # a road number and the estate's building widen to the same place
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _scrub(text: str, names: list[str] | tuple[str, ...], roster: tuple[str, ...] = ()) -> Scrubbed:
    kinds: list[str] = []
    out, kept = _set_aside(text)

    def note(kind: str) -> None:
        if kind not in kinds:
            kinds.append(kind)

    pattern = _names_pattern(tuple(sorted({n.strip() for n in names if n and n.strip()})), roster)
    if pattern is not None:
        out, n = pattern.subn(PLACEHOLDERS["name"], out)
        if n:
            note("name")
    for kind, pattern in _PATTERNS:
        if kind in ("bank_card_luhn", "id_card_checked"):
            valid, real = (luhn_ok, "bank_card") if kind == "bank_card_luhn" else (id_check_ok, "id_card")
            hits = 0

            def checked(m: re.Match[str], valid=valid, real=real) -> str:
                nonlocal hits
                if not valid(m.group(0).replace(" ", "").replace("-", "")):
                    return m.group(0)
                hits += 1
                return PLACEHOLDERS[real]

            out = pattern.sub(checked, out)
            if hits:
                note(real)
            continue
        out, n = pattern.subn(_replacer(PLACEHOLDERS[kind]), out)
        if n:
            note(kind)
    for pattern in (_LABELLED_NAME, _ROLE_NAME):
        out, n = pattern.subn(_replacer(PLACEHOLDERS["name"]), out)
        if n:
            note("name")
    out, n = _TITLED_NAME.subn(lambda mt: PLACEHOLDERS["name"], out)
    if n:
        note("name")
    spans = _address_spans(out)
    for start, end in reversed(spans):
        out = out[:start] + PLACEHOLDERS["address"] + out[end:]
    if spans:
        note("address")
    return Scrubbed(_put_back(out, kept), tuple(kinds))


def scrub_text(text: str | None, names: list[str] | tuple[str, ...] = (), roster: tuple[str, ...] = ()) -> str:
    return scrub(text, names, roster).text
