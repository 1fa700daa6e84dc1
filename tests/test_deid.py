"""De-identification, second layer (#17 item 1, first part): names given away by a label or a title,
full-width digits, and numbers only their label gives away. The original characters stay wherever
nothing is masked."""
from __future__ import annotations

import pytest

from domain.deid import scrub


@pytest.mark.parametrize("text, expected", [
    ("操作员:孙某某已处理", "操作员:[姓名]已处理"),
    ("联系人：郭某反映家中信号差", "联系人：[姓名]反映家中信号差"),
    ("姓名：王小明，电话13912345678", "姓名：[姓名]，电话[手机号]"),
    ("机主 刘洋 要求停机保号", "机主 [姓名] 要求停机保号"),
    ("赵小姐来电催办，周师傅已上门", "[姓名]小姐来电催办，[姓名]师傅已上门"),
    ("客户手机１３８１２３４５６７８一直不通", "客户手机[手机号]一直不通"),
    ("请回拨１３９－１２３４－５６７８", "请回拨[手机号]"),
    ("QQ号12345678被盗后收到诈骗短信", "QQ号[账号]被盗后收到诈骗短信"),
    ("微信号wxid_abc123已被封", "微信号[账号]已被封"),
    ("银联卡号62220212345678扣款两次", "银联卡号[银行卡号]扣款两次"),
    ("身份证号3212**********1234核验失败", "身份证号[身份证号]核验失败"),
    ("宽带账户tz052312345、上网账号ab12345678", "宽带账户[账号]、上网账号[账号]"),
    ("联系电话86221234无人接听", "联系电话[固话]无人接听"),
])
def test_names_and_numbers_given_away_by_their_label_or_form(text, expected):
    assert scrub(text).text == expected


@pytest.mark.parametrize("text", [
    "这位先生要求退费，营业员称已上报",
    "请拨打10086或12300反映，套餐128元/月，基站9342号扇区",
    "地址１号楼不详，工单ＴＺ２０２６在处理",  # full-width text without personal data stays as written
    "客户名称：泰州某某贸易有限公司",
])
def test_what_must_stay_stays_as_written(text):
    assert scrub(text).text == text
