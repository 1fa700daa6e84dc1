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

PLACEHOLDERS = {
    "email": "[邮箱]", "id_card": "[身份证号]", "bank_card": "[银行卡号]", "mobile": "[手机号]",
    "landline": "[固话]", "account": "[账号]", "staff_no": "[工号]", "address": "[地址]", "name": "[姓名]",
}

_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    # 18-digit resident ID: area code, birth date, sequence, check digit (also the old 15-digit form)
    ("id_card", re.compile(_NOT_ALNUM_BEFORE + r"\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                           + _NOT_ALNUM_AFTER)),
    ("id_card", re.compile(_NOT_ALNUM_BEFORE + r"\d{8}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}" + _NOT_ALNUM_AFTER)),
    # bank cards: 16-19 digits, often written in groups of four
    ("bank_card", re.compile(_NOT_ALNUM_BEFORE + r"\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?" + _NOT_ALNUM_AFTER)),
    ("mobile", re.compile(_NOT_ALNUM_BEFORE + r"(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}" + _NOT_ALNUM_AFTER)),
    ("landline", re.compile(_NOT_ALNUM_BEFORE + r"(?:\(0\d{2,3}\)|0\d{2,3})[ -]?\d{7,8}(?:-\d{1,5})?" + _NOT_ALNUM_AFTER)),
    # after a keyword: only the part in the group `pii` is replaced, the keyword stays
    ("landline", re.compile(r"(?:固话|座机)[:：]?\s*(?P<pii>\d{7,8})" + _NOT_ALNUM_AFTER)),
    ("account", re.compile(r"(?:宽带账号|宽带帐号|宽带账户|宽带号码|上网账号|认证账号|账号|帐号|户号)[:：为是]?\s*"
                           r"(?P<pii>[A-Za-z0-9_.@-]{5,})")),
    ("staff_no", re.compile(r"工号[:：为是]?\s*(?P<pii>[A-Za-z0-9]{3,})")),
    # numbers that only their label gives away: a card or ID written short, a QQ number, a WeChat id, a
    # landline without its area code after 电话/号码/联系方式
    ("bank_card", re.compile(r"(?:卡号|银行卡号?|银联卡号?|信用卡号?)[:：为是]?\s*(?P<pii>\d{8,19})" + _NOT_ALNUM_AFTER)),
    ("id_card", re.compile(r"身份证(?:号码|号)?[:：为是]?\s*(?P<pii>[\d*]{4,17}[\dXx*]?)" + _NOT_ALNUM_AFTER)),
    ("account", re.compile(r"(?:QQ号?|qq号?)[:：为是]?\s*(?P<pii>\d{5,11})" + _NOT_ALNUM_AFTER)),
    ("account", re.compile(r"(?:微信号|微信)[:：为是]?\s*(?P<pii>[A-Za-z][A-Za-z0-9_-]{5,19})" + _NOT_ALNUM_AFTER)),
    ("landline", re.compile(r"(?:电话|号码|联系方式)[:：为是]?\s*(?P<pii>\d{7,8})" + _NOT_ALNUM_AFTER)),
]

# Names the text gives away by a label (联系人：郭某, 操作员:孙某某) or by a title after a common surname
# (赵小姐, 周师傅): the name is replaced, the label or title stays.
_LABELS = "操作员|联系人|客户名称|客户姓名|姓名|机主|受理人|经办人|投诉人|反映人|户主|用户名称"
_AFTER_NAME = (r"(?=$|[^\u4e00-\u9fa5]|先生|女士|小姐|师傅|老师|反映|来电|称|表示|要求|投诉|电话|手机|号码|联系|的|于|在"
               r"|已|将|处理|办理|受理|告知|回复|答复|确认|同意|说)")
_LABELLED_NAME = re.compile(rf"(?:{_LABELS})[:：为是]?\s*(?P<pii>[\u4e00-\u9fa5]{{2,3}}){_AFTER_NAME}")
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
            "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
            "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
            "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
_TITLED_NAME = re.compile(rf"(?<![\u4e00-\u9fa5])(?P<pii>[{SURNAMES}][\u4e00-\u9fa5]?)(?=先生|女士|小姐|师傅)"
                          rf"|(?<=[^\u4e00-\u9fa5])(?P<pii2>[{SURNAMES}])(?=先生|女士|小姐|师傅)")

# Full-width forms (１３８…, ＡＢＣ, －) are matched as their half-width selves; the original characters
# are kept wherever nothing is masked.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x2014: 0x2D, 0x2013: 0x2D,
                                                                     0x2212: 0x2D}

# An address down to the building: (province/city/district/town) road or estate, a number, then
# building/unit/room parts. Place-name characters exclude the little words that lead into an address
# ("在", "位于", "家住"…) so that the match starts at the place name and the sentence around it stays.
_PLACE = r"(?:(?![在于住是的了与及从到往向对把被给让为着过将时内外附近旁边称说映诉户我你他她家址：:，,。；、])[\u4e00-\u9fa5])"
_ADDRESS = re.compile(
    rf"(?:{_PLACE}{{2,6}}?(?:省|市|区|县|镇|乡|街道))*"
    rf"{_PLACE}{{0,8}}?(?:路|街|大道|巷|弄|村|组|小区|花园|公寓|新村|家园|苑|大厦|广场)\s*\d+\s*(?:号楼|号|栋|幢|弄|组|座)"
    r"(?:\s*\d+\s*(?:号楼|号|栋|幢|单元|室|层|楼|座|户))*")
_LEAD_INS = ("我家", "家住", "住在", "住址", "地址", "位于", "居住", "客户", "用户", "反映", "投诉", "称", "在", "住",
             "家", "是", "于", "：", ":", "，", ",")


@dataclass(frozen=True)
class Scrubbed:
    text: str
    kinds: tuple[str, ...]  # what was removed, once per kind, in order of appearance


def _name_patterns(names: list[str]) -> list[re.Pattern[str]]:
    out = []
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        out.append(re.compile(re.escape(name)))
        if len(name) >= 2:
            surname, given = name[0], name[1:]
            out.append(re.compile(re.escape(surname) + r"(?:先生|女士|小姐|老师|师傅|阿姨|大爷)"))
            if len(given) >= 2:
                out.append(re.compile(re.escape(given)))
    return out


def _replacer(placeholder: str):
    def replace(m: re.Match[str]) -> str:
        if "pii" not in m.re.groupindex:
            return placeholder
        whole, start, end = m.group(0), m.start("pii") - m.start(), m.end("pii") - m.start()
        return whole[:start] + placeholder + whole[end:]
    return replace


def scrub(text: str | None, names: list[str] | tuple[str, ...] = ()) -> Scrubbed:
    """The text with personal data replaced by placeholders such as `[手机号]`."""
    if not text:
        return Scrubbed("", ())
    original = str(text)
    half = original.translate(_HALF_WIDTH)  # one character for one: positions stay the same
    result = _scrub(half, names)
    if half == original or result.text == half:
        return result if half == original else Scrubbed(original, result.kinds)
    # put the original (full-width) characters back wherever the scrubbed text kept the text as it was
    pieces = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, half, result.text, autojunk=False).get_opcodes():
        pieces.append(original[a1:a2] if op == "equal" else result.text[b1:b2])
    return Scrubbed("".join(pieces), result.kinds)


def _scrub(text: str, names: list[str] | tuple[str, ...]) -> Scrubbed:
    kinds: list[str] = []
    out = text
    for pattern in _name_patterns(list(names)):
        out, n = pattern.subn(PLACEHOLDERS["name"], out)
        if n and "name" not in kinds:
            kinds.append("name")
    for kind, pattern in _PATTERNS:
        out, n = pattern.subn(_replacer(PLACEHOLDERS[kind]), out)
        if n and kind not in kinds:
            kinds.append(kind)
    out, n = _LABELLED_NAME.subn(_replacer(PLACEHOLDERS["name"]), out)
    out, m = _TITLED_NAME.subn(lambda mt: PLACEHOLDERS["name"], out)
    if (n or m) and "name" not in kinds:
        kinds.append("name")

    def address(m: re.Match[str]) -> str:
        found = m.group(0)
        kept = ""
        stripped = True
        while stripped:  # keep the words that lead into the address ("家住", "位于"), drop the address
            stripped = False
            for lead in _LEAD_INS:
                if found.startswith(lead) and len(found) > len(lead):
                    kept, found, stripped = kept + lead, found[len(lead):], True
                    break
        return kept + PLACEHOLDERS["address"]

    out, n = _ADDRESS.subn(address, out)
    if n:
        kinds.append("address")
    return Scrubbed(out, tuple(kinds))


def scrub_text(text: str | None, names: list[str] | tuple[str, ...] = ()) -> str:
    return scrub(text, names).text
