"""Writes the de-identification evaluation set of #17 (tests/data/deid/eval.jsonl): work-order texts written
for the purpose — intake forms, free narratives, transfer records, broadband and billing notes — each with
the personal data it holds (kind, the value as written, and for an address the house-level part that must
not survive) and the look-alikes that must survive (order and serial numbers after their labels, hotlines
and SMS ports, the operator's mailboxes, system accounts, the operator's own halls, amounts, dates).

    python tests/data/deid/make.py        # rewrites eval.jsonl; the tests read the committed file

Every format #17 names appears: mobiles in every grouping (spaces, dashes, +86, 0086, full width), landlines
with and without area code, 18-digit IDs with their check digit and partial IDs after a label, bank cards
that pass Luhn with no keyword and shorter ones after 卡号, QQ, WeChat, broadband accounts, staff numbers,
names by label, by title, from the roster and the customer's own, addresses down to the room in the forms
centres write (府/城/庭/园/苑/宿舍/住宅区, C栋, A座, 一单元, 12-3-1102, 3#, a room after a unit, villages with 家).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文海燕凤云飞宇浩然欣怡子涵梓轩雨婷佳琪晨阳"
CITIES = [("江苏省", "泰州市", "海陵区"), ("", "泰州市", "高港区"), ("", "", "姜堰区"), ("江苏省", "泰州市", "兴化市"),
          ("", "靖江市", ""), ("", "泰兴市", "")]
ROADS = ["青年南路", "鼓楼路", "海陵北路", "迎春西路", "东风中路", "济川东路", "税务东街", "人民路", "府前街", "永定巷"]
ESTATES = ["凤凰城", "锦绣华庭", "天德湖花园", "春晖苑", "御景府", "梅兰新村", "金色家园", "明珠住宅区", "滨江名邸", "罗塘公寓",
           "供电局宿舍", "翠竹园", "万达广场", "碧桂园", "江南小区"]
VILLAGES = ["王家庄", "李家村", "陈家舍", "周家垛", "朱家湾"]
TOWNS = ["白马镇", "大泗镇", "溱潼镇", "华港镇", "蒋垛镇"]
PROBLEMS = ["家中信号弱，通话经常中断", "手机上不了网，重启后仍然不行", "本月话费多扣了三十元", "宽带经常断网", "套餐变更未生效",
            "营业员态度恶劣", "未经同意被开通视频会员", "销户后仍在扣费"]
DEMANDS = ["尽快解决并回复", "退还多扣费用", "赔礼道歉", "更换设备", "取消业务并退费"]
DEPTS = ["网络部", "市场部", "政企部", "集团客户部", "宽带维护中心"]
HALLS = ["泰州市海陵区青年南路18号移动营业厅", "鼓楼路88号中国移动自有厅", "兴化市英武路6号移动旗舰店"]
LABELS = ["操作员", "联系人", "客户名称", "姓名", "机主", "受理人", "经办人"]
TITLES = ["先生", "女士", "小姐", "师傅"]


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def mobile(rng: random.Random) -> str:
    return rng.choice("3456789").join(["1", ""]) + "".join(str(rng.randrange(10)) for _ in range(9))


def grouped_mobile(rng: random.Random, number: str) -> str:
    style = rng.randrange(7)
    if style == 0:
        return number
    if style == 1:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style == 2:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 3:
        return f"+86 {number}"
    if style == 4:
        return f"0086-{number}"
    if style == 5:
        return f"+86-{number[:3]}-{number[3:7]}-{number[7:]}"
    return number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})  # full width


def landline(rng: random.Random) -> str:
    local = str(rng.randrange(2, 9)) + "".join(str(rng.randrange(10)) for _ in range(7))
    style = rng.randrange(4)
    return {0: f"0523-{local}", 1: f"(0523){local}", 2: f"0523 {local[:4]} {local[4:]}", 3: f"0523{local}"}[style]


def id_number(rng: random.Random) -> str:
    body = "3212" + f"{rng.randrange(1, 99):02d}" + str(rng.randrange(1950, 2005)) + f"{rng.randrange(1, 13):02d}" \
        + f"{rng.randrange(1, 29):02d}" + f"{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    return body + check


def luhn_card(rng: random.Random, length: int) -> str:
    body = rng.choice(("622202", "621700", "622848", "436742", "625807")) + "".join(
        str(rng.randrange(10)) for _ in range(length - 7))
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            n -= 9 if n > 9 else 0
        total += n
    return body + str((10 - total % 10) % 10)


def not_luhn(rng: random.Random, length: int) -> str:
    """An order or serial number of card length that fails Luhn."""
    while True:
        value = "2026" + "".join(str(rng.randrange(10)) for _ in range(length - 4))
        total = 0
        for i, d in enumerate(reversed(value)):
            n = int(d) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10:
            return value


def address(rng: random.Random) -> tuple[str, str, str]:
    """(address, its house-level part, its estate or road) in one of the forms centres write."""
    prov, city, district = rng.choice(CITIES)
    head = prov + city + district
    style = rng.randrange(8)
    b, u, room = rng.randrange(1, 40), rng.randrange(1, 6), f"{rng.randrange(1, 30)}{rng.randrange(1, 5):02d}"
    estate = rng.choice(ESTATES)
    if style == 0:
        road, n = rng.choice(ROADS), rng.randrange(1, 300)
        core = f"{b}栋{u}单元{room}室"
        return f"{head}{road}{n}号{estate}{core}", core, estate
    if style == 1:
        core = f"{rng.choice('ABCDEFG')}座{room}"
        return f"{head}{estate}{core}", core, estate
    if style == 2:
        core = f"{b}-{u}-{room}"
        return f"{head}{estate}{core}", core, estate
    if style == 3:
        village = rng.choice(VILLAGES)
        core = f"{rng.randrange(1, 12)}组{rng.randrange(1, 60)}号"
        return f"{district or city}{rng.choice(TOWNS)}{village}{core}", core, village
    if style == 4:
        core = f"{b}#楼{room}"
        return f"{head}{estate}{core}", core, estate
    if style == 5:
        core = f"{rng.choice('一二三四五')}单元{room}室"
        return f"{head}{estate}{b}号楼{core}", core, estate
    if style == 6:
        core = f"{rng.choice('ABCDE')}栋{room}室"
        return f"{head}{estate}{core}", core, estate
    road, n = rng.choice(ROADS), rng.randrange(1, 300)
    core = f"{n}号{b}幢{room}"
    return f"{head}{road}{core}", core, road


def item(rng: random.Random, i: int) -> dict:
    customer, handler, colleague = name(rng), name(rng), name(rng)
    roster = [handler, colleague]
    pii: list[dict] = []
    keep: list[str] = []

    def p(kind: str, value: str, core: str | None = None) -> str:
        pii.append({"kind": kind, "value": value, **({"core": core} if core else {})})
        return value

    def k(value: str) -> str:
        keep.append(value)
        return value

    order = f"TZ2026{rng.randrange(10**11, 10**12)}"
    problem, demand = rng.choice(PROBLEMS), rng.choice(DEMANDS)
    form = i % 12
    if form == 0:  # intake form
        m = mobile(rng)
        text = (f"【受理信息】工单号：{k(order)}；受理人：{p('name', name(rng))}（工号：{p('staff_no', f'TZ{rng.randrange(1000, 99999)}')}）；"
                f"客户姓名：{p('name', customer)}；联系电话：{p('mobile', m)}；证件号码：{p('id_card', id_number(rng))}；"
                f"投诉内容：客户反映{problem}，要求{demand}。")
    elif form == 1:  # free narrative with a title and an address
        addr, core, estate = address(rng)
        m = mobile(rng)
        title = rng.choice(TITLES)
        text = (f"{p('name', customer[0] + title)}来电称，其家住{p('address', addr, core)}，{problem}，已多次拨打"
                f"{k('10086')}未解决，希望回拨{p('mobile', grouped_mobile(rng, m))}。")
        pii[-2]["estate"] = estate
    elif form == 2:  # transfer record
        text = (f"{k('2026-03-05 08:07')} 操作员:{p('name', name(rng))} 转派至{rng.choice(DEPTS)}，"
                f"联系人：{p('name', name(rng))}，座机{p('landline', landline(rng))}，备注：客户银行卡"
                f"{p('bank_card', luhn_card(rng, rng.choice((16, 19))))}被扣款{k(str(rng.randrange(10, 300)))}元，"
                f"交易流水号{k(not_luhn(rng, rng.choice((16, 18, 19))))}。")
    elif form == 3:  # broadband
        addr, core, estate = address(rng)
        text = (f"宽带账户{p('account', f'tz05{rng.randrange(10**7, 10**8)}')}无法认证，上网账号"
                f"{p('account', rng.choice(('ab', 'kd', 'jy')) + str(rng.randrange(10**7, 10**8)))}，装机地址"
                f"{p('address', addr, core)}，客户QQ号{p('account', str(rng.randrange(10**6, 10**10)))}，"
                f"微信{p('account', 'wx' + ''.join(rng.choice('abcdefghjk0123456789_') for _ in range(8)))}。")
        pii[-3]["estate"] = estate
    elif form == 4:  # e-mail
        email = rng.choice(("zhang", "li.ming", "wang_fang", "tz")) + str(rng.randrange(100, 9999)) + "@" + \
            rng.choice(("qq.com", "139.com", "163.com", "foxmail.com"))
        text = (f"客户邮箱{p('email', email)}，已将账单发送，抄送{k('callcenter@js.chinamobile.com')}；"
                f"如有疑问请联系{k('service@10086.cn')}或拨打{k('12300')}。")
    elif form == 5:  # billing
        text = (f"订单号{k(not_luhn(rng, 18))}，银联卡号{p('bank_card', str(rng.randrange(10**9, 10**12)))}扣款两次，"
                f"身份证号{p('id_card', '3212' + '*' * 10 + str(rng.randrange(1000, 9999)))}核验失败，"
                f"短信端口{k('1065' + str(rng.randrange(10**7, 10**8)))}发送了验证码。")
    elif form == 6:  # abroad
        m = mobile(rng)
        text = (f"{p('name', customer)}在境外，联系号码{p('mobile', '0086-' + m)}，备用{p('mobile', '+86 ' + mobile(rng))}，"
                f"已开通国际漫游，套餐{k('128')}元/月。")
    elif form == 7:  # landline without area code, roster names in the text
        local = str(rng.randrange(2, 9)) + str(rng.randrange(10**6, 10**7))
        text = (f"联系电话{p('landline', local)}无人接听；{p('name', handler)}已于{k('3月5日')}上门，"
                f"由{p('name', colleague)}复核，客户{p('name', customer)}表示满意。")
    elif form == 8:  # hall visit and system accounts
        text = (f"客户到{k(rng.choice(HALLS))}办理销户，{k('操作员：system')}自动回单，{k('工号 yjboss')}批量处理，"
                f"营业员{p('name', name(rng))}解释{problem}。")
    elif form == 9:  # full-width number and the customer's name alone
        m = mobile(rng)
        wide = m.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
        text = (f"用户{p('name', customer)}反映手机{p('mobile', wide)}{problem}，基站编号{k(str(rng.randrange(1000, 9999)))}"
                f"扇区故障，工单{k(order)}已派发。")
    elif form == 10:  # address forms only
        addr, core, estate = address(rng)
        text = f"现客户要求查明{problem}原因，客户住址：{p('address', addr, core)}，{k('2026年3月5日')}前答复。"
        pii[-1]["estate"] = estate
    else:  # a labelled list of contact details
        label = rng.choice(LABELS)
        text = (f"{label}：{p('name', name(rng))}，手机{p('mobile', grouped_mobile(rng, mobile(rng)))}，"
                f"身份证{p('id_card', id_number(rng))}，开户行卡号{p('bank_card', luhn_card(rng, 16))}。")
    return {"id": i + 1, "form": form, "text": text, "names": [customer] + roster, "pii": pii, "keep": keep}


def main() -> None:
    rng = random.Random(17)
    items = [item(rng, i) for i in range(480)]
    with open(HERE / "eval.jsonl", "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
