"""Writes the clustering evaluation set of #16 (tests/data/clusters/eval.jsonl): complaint texts written for
the purpose, each with its category and the specific problem it reports (12 problems: 4 network, 5 business,
3 service, some of them close — broadband drops and broadband speed, mobile data speed; charges nobody ordered,
a wrong bill, charges after closing), the way a centre's intake forms and free narratives read:

- a third of them inside an intake template whose labels and stock sentences every case repeats
  (【受理渠道】…【客户级别】…; 客户来电反映; 已安抚客户情绪; 请按时限处理) — what boilerplate removal must take out;
- the same problem said in different words (断网/掉线/上不了网; 扣费/扣款/多收), with places, amounts, dates and
  package names that vary, and demands that several problems share (退费, 尽快处理, 道歉);
- asides any complaint may carry (持续一个多月, 之前打过电话) and, in one text of eight, another problem of
  the same category mentioned in passing.

    python tests/data/clusters/make.py     # rewrites eval.jsonl (seeded); the tests read the committed file
"""
from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLACES = ["海陵区凤凰城小区", "高港区口岸街道", "姜堰区三水花园", "兴化市英武新村", "靖江市滨江名邸", "泰兴市济川东路一带",
          "医药高新区天德湖", "白马镇王家庄", "溱潼镇老街", "城东工业园"]
PACKAGES = ["畅享套餐", "5G智享套餐", "全家享套餐", "宽带融合套餐", "校园卡", "流量王套餐"]
SERVICES = ["视频彩铃", "咪咕视频会员", "游戏包", "天气预报短信", "云盘会员", "彩铃音乐包"]
AMOUNTS = ["15元", "20元", "30元", "58元", "99元", "128元", "9.9元", "200多元"]
DEMANDS = ["要求尽快处理并回复", "要求退还费用", "要求给个说法", "要求相关人员道歉", "希望今天内回电", "要求上级部门核实"]

# category -> problem -> (descriptions, true reasons, own demands); placeholders {place} {pkg} {svc} {amt} {n}
PROBLEMS = {
    "network": {
        "indoor_signal": (
            ["客户反映{place}家中室内信号弱，打电话经常听不清", "{place}屋里手机信号只有一格，通话老是断",
             "家里信号差，进门就没信号，要到阳台才能打电话", "客户称在{place}家中无信号，电话打不进来",
             "住在{place}，室内手机信号很弱，接电话要跑到楼下"],
            ["该区域基站覆盖不足，室内深度覆盖差", "附近基站距离较远，楼宇遮挡导致室内弱覆盖", "小区为新建楼盘，尚未做室分覆盖"],
            ["要求改善家中信号", "希望尽快在小区加装基站"]),
        "broadband_drops": (
            ["客户家中宽带晚上经常断网，重启光猫也没用", "{place}宽带频繁掉线，一天断好几次", "宽带每到晚上八点以后就上不了网",
             "家里宽带老是断，看电视卡顿，光猫灯一直闪红", "宽带近{n}天反复断线，影响孩子上网课"],
            ["光猫老化，光功率偏低", "分光器端口故障导致频繁掉线", "楼道光缆受损，信号衰减大"],
            ["要求上门检修宽带", "要求更换光猫", "要求减免断网期间的宽带费"]),
        "broadband_slow": (
            ["家里宽带网速很慢，办的是千兆实际只有几十兆", "宽带测速远低于办理的带宽，看视频卡", "客户反映{place}宽带速度慢，打游戏延迟高",
             "宽带提速后网速没有变化", "晚上用宽带下载速度只有几百K", "宽带网速达不到套餐承诺的速率"],
            ["光猫为百兆口设备，不支持千兆速率", "家中路由器老旧限制了速率", "片区OLT上联带宽拥塞"],
            ["要求宽带达到办理的速率", "要求更换千兆光猫", "要求按实际速率退费"]),
        "slow_data": (
            ["5G手机网速很慢，打开网页要转好久", "客户反映流量上网速度慢，刷视频一直缓冲", "在{place}用4G网速只有几十K，几乎用不了",
             "手机显示5G但网速比4G还慢", "下班高峰时段上网特别慢，APP都打不开"],
            ["该小区忙时负荷高，容量不足", "5G与4G切换参数设置不合理", "基站传输带宽受限"],
            ["要求提升网速", "要求解释网速慢的原因"]),
    },
    "business": {
        "unauthorised_vas": (
            ["客户发现话费中有{svc}的扣费，本人不知情，从未订购", "未经同意被开通了{svc}，每月扣{amt}",
             "客户称没有办理过{svc}，却被收费了{n}个月", "手机上莫名其妙多了{svc}业务，扣款{amt}",
             "不知道什么时候被订购了{svc}，查询账单才发现"],
            ["客户在营业厅办理其他业务时被工作人员一并开通{svc}", "客户点击了短信链接误订{svc}", "渠道营销人员违规代客订购"],
            ["要求取消{svc}并退还全部费用", "要求查明是谁开通的"]),
        "plan_renewal": (
            ["合约到期后{pkg}被自动续约，资费比原来高", "客户反映{pkg}优惠到期后月费从{amt}涨了", "套餐到期没有提醒就自动续费了",
             "原来办的{pkg}承诺的优惠没兑现，每月多收{amt}", "{pkg}到期后被自动转成了更贵的套餐"],
            ["合约到期后系统按规则转为标准资费，到期提醒短信未送达", "营业员办理时未讲清优惠期限", "到期续约规则在协议中表述不清"],
            ["要求恢复原套餐资费", "要求退还多收的套餐费"]),
        "port_out": (
            ["客户想携号转网到其他运营商，一直提示不符合条件", "办理携号转网时被告知有合约不能转", "申请携出被营业厅拒绝，说要先交违约金",
             "携号转网授权码收不到，多次申请都失败", "客户要转网，被要求到开户地营业厅办理"],
            ["号码存在未到期的合约，需先解约", "号码有欠费未结清，系统校验不通过", "营业员对携转政策理解有误"],
            ["要求尽快办理携号转网", "要求取消转网限制"]),
        "bill_error": (
            ["本月话费账单金额不对，比平时多了{amt}", "客户称通话时长和账单对不上，被多收了费用", "流量没超却被收了超流量费{amt}",
             "账单里有一笔{amt}的费用看不懂，怀疑扣错了", "国内漫游被按国际漫游收费", "套餐内的免费通话被计了费"],
            ["计费系统套餐生效时间配置错误，导致套内资源未抵扣", "客户流量在套餐生效前使用，按标准资费计费", "话单重复入账"],
            ["要求核对账单并退还多收费用", "要求给出详细话单"]),
        "charged_after_close": (
            ["客户已经销户，但还在继续扣费", "办理了停机保号，本月还是扣了{amt}", "号码注销后银行卡仍被代扣话费",
             "宽带已经拆机了，账单里还有宽带费", "销号之后又收到了{n}个月的账单"],
            ["销户工单未在计费系统同步，仍按在网计费", "银行代扣协议未随销户解除", "拆机后宽带账户未及时关闭计费"],
            ["要求退还销户后的扣费", "要求停止扣款"]),
    },
    "service": {
        "hall_attitude": (
            ["客户在营业厅办理业务时营业员态度很差，爱答不理", "营业员说话很冲，客户问了几句就不耐烦", "去营业厅排队很久，工作人员态度恶劣",
             "营业员服务态度不好，还和客户吵了起来", "客户称营业厅工作人员推诿，不给办理还甩脸色"],
            ["营业员服务意识不足，沟通方式欠妥", "高峰时段人手不足，营业员情绪急躁", "营业员对业务不熟，解释不清引发争执"],
            ["要求营业员道歉", "要求对营业员严肃处理"]),
        "repair_delay": (
            ["宽带报修两天了还没人上门", "预约装宽带，说好今天上门结果没人来", "报修后装维人员一直联系不上",
             "客户申请新装宽带一周了还没安装", "约好的上门维修时间装维人员爽约"],
            ["装维人员工单积压，未按预约时间上门", "片区装维人员不足，派单延迟", "预约信息未同步到装维人员"],
            ["要求尽快上门", "要求明确上门时间"]),
        "hotline": (
            ["打10086一直打不通，转人工要等很久", "客服电话转了好几次都没解决问题", "热线人工客服排队半小时",
             "客户多次拨打客服热线，每次都让等回复，没人回电", "10086客服答复前后不一致"],
            ["话务高峰人工坐席不足", "一线客服无权处理，只能转派", "工单转派后未跟进回访"],
            ["要求有专人跟进回复", "要求客服回电说明"]),
    },
}
TEMPLATE_HEAD = ["【工单类型】投诉 【受理渠道】10086热线 【客户级别】普通客户", "【受理渠道】营业厅 【客户级别】银卡 【是否重复】否",
                 "【工单类型】投诉 【紧急程度】一般 【受理渠道】网上营业厅"]
TEMPLATE_SENTENCES = ["客户来电反映：", "已安抚客户情绪，", "请相关部门按规定时限处理。", "客户情绪激动，请尽快联系客户。",
                      "已告知客户处理时限，"]


ASIDES = ["这个问题已经持续一个多月了", "之前打过电话没有解决", "客户是十几年的老用户", "客户说再不解决就去工信部投诉",
          "客户表示对处理很失望", "上次答复说会处理但没下文"]


def fill(text: str, rng: random.Random) -> str:
    return text.format(place=rng.choice(PLACES), pkg=rng.choice(PACKAGES), svc=rng.choice(SERVICES),
                       amt=rng.choice(AMOUNTS), n=rng.randint(2, 9))


def one(category: str, problem: str, rng: random.Random, templated: bool) -> dict:
    descriptions, reasons, demands = PROBLEMS[category][problem]
    description = fill(rng.choice(descriptions), rng)
    if rng.random() < 0.35:  # a second sentence of the same problem in other words
        description += "，" + fill(rng.choice(descriptions), rng)
    if rng.random() < 0.3:  # what customers add whatever the problem
        description += "，" + rng.choice(ASIDES)
    if rng.random() < 0.12:  # another problem mentioned in passing, in the same category
        other = rng.choice([p for p in PROBLEMS[category] if p != problem])
        description += "，另外" + fill(rng.choice(PROBLEMS[category][other][0]), rng)[:12]
    if templated:
        description = (rng.choice(TEMPLATE_HEAD) + "\n" + TEMPLATE_SENTENCES[0] + description + "。"
                       + rng.choice(TEMPLATE_SENTENCES[1:]) + rng.choice(TEMPLATE_SENTENCES[1:]))
    reason = fill(rng.choice(reasons), rng) if rng.random() < 0.8 else ""
    demand = fill(rng.choice(demands), rng) if rng.random() < 0.6 else rng.choice(DEMANDS)
    return {"category": category, "label": problem, "description": description, "true_reason": reason,
            "customer_demand": demand}


def build(per_problem: int = 55, seed: int = 16) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for category, problems in PROBLEMS.items():
        for problem in problems:
            for i in range(per_problem):
                rows.append(one(category, problem, rng, templated=i % 3 == 0))
    rng.shuffle(rows)
    return rows


if __name__ == "__main__":
    rows = build()
    with open(HERE / "eval.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} texts, {len({r['label'] for r in rows})} problems")
