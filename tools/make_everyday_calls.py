"""Write voice_agent/risk/data/everyday_calls.jsonl: everyday calls retold to a teller.

The fraud detector learned "a phone call happened" as fraud because its
negatives were banking look-alikes only. This script writes the negatives
it was missing: ordinary calls elderly customers get and retell
(deliveries, food orders, taxis, clinic appointments, telecom and utility
notices, insurance renewals, community and elderly-care activities, shop
promotions, the bank's own service calls, family talk about money), in
Mandarin and Shanghainese, with ASR-style slips.

Each row is ``{"text", "topic", "dialect", "split", "source"}``. ``split``
is ``train`` or ``test`` and is decided by the *template* (and, for the
hand-written lines, by the line), never by the sentence, so a test
sentence is never a re-fill of a training template: the held-out figure
measures generalisation to new phrasings, not memory.

    .venv/bin/python tools/make_everyday_calls.py          # rewrite the file
    .venv/bin/python tools/make_everyday_calls.py --check  # fail if it is stale

Deterministic (seeded), so the committed file is reproducible.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "voice_agent/risk/data/everyday_calls.jsonl"
SEED = 20240612
TEST_EVERY = 5  # every 5th template (and hand-written line) is held out

# Openers: how a customer starts retelling a call.
OPENERS = [
    "刚才接到一个电话，",
    "昨天有个人打电话给我，",
    "早上来了个电话，",
    "今天上午接到电话，",
    "我跟你讲，刚刚有电话来，",
    "前两天接到个电话，",
    "下午有个电话打过来，",
    "",
    "",
    "喂，小姑娘，",
    "我问一下啊，",
]
CLOSERS = [
    "",
    "",
    "",
    "，你说好笑伐",
    "，我就跟你讲一声",
    "，我想问问你们",
    "，这个正常吧",
    "，我晓得了",
]

FILL = {
    "n": ["三十", "二十", "四十", "十五", "半小时", "一个钟头"],
    "shop": ["美团", "饿了么", "盒马", "叮咚买菜", "肯德基", "楼下面馆", "老字号点心店"],
    "food": ["馄饨", "生煎", "小笼包", "盒饭", "牛奶", "蔬菜", "水果", "鲜肉月饼"],
    "courier": ["顺丰", "中通", "京东快递", "邮政", "圆通", "韵达"],
    "place": ["驿站", "门卫室", "快递柜", "小区门口", "楼下", "物业"],
    "car": ["出租车", "滴滴", "网约车", "预约的车", "大众出租"],
    "hosp": [
        "社区医院",
        "瑞金医院",
        "六院",
        "中山医院",
        "街道卫生服务中心",
        "牙科诊所",
        "眼科医院",
    ],
    "day": ["明天上午", "下礼拜一", "后天下午", "这个礼拜五", "月底", "下个月三号"],
    "dept": ["心内科", "骨科", "眼科", "口腔科", "体检中心", "康复科"],
    "telco": ["电信", "移动", "联通", "有线电视", "燃气公司", "自来水公司", "供电局"],
    "ins": ["平安", "太平洋", "人寿", "车险", "医疗险"],
    "org": ["居委会", "街道", "社区", "老年大学", "老年活动中心", "敬老院", "日间照料中心"],
    "act": ["体检", "包馄饨", "唱歌", "太极拳", "剪头发", "量血压", "防诈骗讲座", "书法班", "旅游"],
    "store": ["超市", "药房", "商场", "家电店", "眼镜店", "菜场", "理发店", "鞋店"],
    "promo": ["打八折", "满一百减二十", "会员日", "新品上市", "积分换礼品", "周年庆", "买一送一"],
    "rel": ["儿子", "女儿", "孙子", "外孙女", "老伴", "媳妇", "女婿", "侄子"],
    "money": ["两千", "五百", "三千块", "一万", "八百", "两百块", "五千"],
    "item": ["冰箱", "电视机", "洗衣机", "空调", "热水器", "手机"],
}

# topic -> templates. {name} is filled from FILL.
TEMPLATES: dict[str, list[str]] = {
    "delivery": [
        "说我的快递到了，放在{place}，让我下午去拿",
        "{courier}的快递员说包裹放{place}了，叫我早点去取",
        "快递小哥讲东西送到{place}了，问我什么时候在家",
        "说我有个{courier}的包裹，地址写得不清楚，问我住几号楼",
        "快递员说今天送不到了，明天上午再送过来",
        "说是送{item}的师傅，问我明天家里有没有人，要上门安装",
        "{courier}打电话说包裹要本人签收，问我几点方便",
        "快递员说门卫不让进，让我下楼拿一下",
        "说我网上买的东西到了，放快递柜了，取件码发短信给我了",
        "物流公司讲我的{item}下午送到，叫我留个人在家",
    ],
    "food": [
        "说我的外卖订单已经记录，{n}分钟送到",
        "{shop}的骑手说{food}马上到楼下，让我开一下门",
        "外卖小哥说找不到我家门牌号，问我具体在哪里",
        "店里打电话说我订的{food}卖完了，问我换别的行不行",
        "{shop}说我订的菜今天送晚一点，大概{n}分钟",
        "送餐的说电梯坏了，叫我到楼下拿一下{food}",
        "店家讲我点的{food}多付了两块钱，下次给我补上",
        "送牛奶的说下个月开始改成早上七点送",
    ],
    "taxi": [
        "{car}司机说他到小区门口了，让我出来",
        "说我叫的{car}还有五分钟到，车牌号发短信了",
        "{car}师傅讲路上堵车，要晚十分钟到",
        "司机说我的伞落在车上了，问我要不要送回来",
        "说是{car}平台的，问我刚才坐车满意不满意",
        "司机打电话可以帮我规划出行路线，问我走高架还是地面",
        "{car}司机说找不到上车点，让我在路口等他",
    ],
    "clinic": [
        "{hosp}打电话说我{day}的{dept}预约改时间了",
        "{hosp}提醒我{day}去复查，带好医保卡",
        "说是{hosp}的护士，让我{day}空腹来抽血",
        "医院说我的体检报告出来了，可以去拿了",
        "{hosp}讲我挂的{dept}专家号停诊了，帮我改到{day}",
        "家庭医生打电话问我血压最近怎么样，药还够不够",
        "{hosp}说我配的药到了，让我去窗口拿",
        "医院打电话提醒我{day}做检查，前一天晚上别吃东西",
    ],
    "telecom": [
        "{telco}说我家这个月账单出来了，让我按时缴费",
        "{telco}打电话讲下礼拜要上门检查管道，问我哪天在家",
        "说是{telco}的，通知我们小区{day}停电检修",
        "{telco}讲我的套餐下个月到期了，问我要不要续",
        "{telco}说我家宽带要升级，师傅{day}上门",
        "{telco}的工作人员说要来抄表，问我家里有没有人",
        "说{telco}的营业厅搬家了，让我以后去新地方办",
        "{telco}提醒我话费快用完了，可以去营业厅充",
    ],
    "insurance": [
        "{ins}保险的业务员说我的保单{day}到期，问我还续不续保",
        "保险公司打电话说我的理赔材料收到了，正在审核",
        "说是{ins}的，提醒我车险快到期了，可以去门店办",
        "保险公司讲我的医疗险续保了，保单寄到家里了",
        "{ins}的人问我去年的体检报告要不要交一份",
        "保险公司说理赔款已经打到我卡上了，让我查一下",
    ],
    "community": [
        "{org}通知我{day}去参加{act}",
        "{org}的小王打电话问我{day}的{act}去不去",
        "说是{org}的，让我带身份证去登记一下高龄津贴",
        "{org}讲{day}有免费{act}，让我早点去排队",
        "{org}通知老年人{day}去打疫苗，要带医保卡",
        "{org}的志愿者说{day}上门来看看我，问我需要什么",
        "{org}讲{act}的名额还有，问我要不要报名",
        "街道打电话说我的敬老卡做好了，让我去拿",
    ],
    "shop": [
        "{store}打电话说{promo}，让我有空去看看",
        "说是{store}的，问我会员卡积分快过期了要不要用",
        "{store}讲我订的{item}到货了，可以去提了",
        "{store}的店员说{promo}，老年人还有额外优惠",
        "{store}打电话问我上次买的东西好不好用",
        "说我在{store}办的会员卡，{day}有{promo}活动",
        "{store}讲我修的{item}修好了，让我去拿",
    ],
    "bank": [
        "你们银行的客户经理打电话说我的定期{day}到期了，问我要不要续存",
        "银行打电话提醒我银行卡快过期了，让我来换新卡",
        "说是你们银行的，问我上次来办业务满意不满意",
        "银行发短信说我的养老金到账了",
        "你们网点打电话讲我的新卡做好了，让我带身份证来拿",
        "银行的人说我预约的{day}办业务，让我带好存折",
        "你们客服打电话回访，问我手机银行会不会用",
        "银行讲我的存单到期自动转存了，利息已经算好了",
    ],
    "family": [
        "我{rel}打电话说下个月回来看我，让我别给他准备钱",
        "{rel}打电话来讲工资发了，要给我买件衣服",
        "{rel}跟我说他自己有钱，叫我把钱留着自己用",
        "{rel}讲{day}带孙子来吃饭，让我多买点菜",
        "我{rel}视频里说家里装修要花钱，我自己想给他一点",
        "{rel}打电话叫我去医院做体检，钱他来出",
        "{rel}说他给我寄了点补品，让我注意查收",
        "{rel}讲物业费他已经帮我交好了",
        "{rel}打电话问我养老金够不够用，我说够了",
        "{rel}说要给我换个新{item}，让我别省钱",
    ],
}

# Shanghainese retelling: Mandarin word -> Wu word (applied to a share of rows).
WU = [
    ("我们", "阿拉"),
    ("什么", "啥"),
    ("今天", "今朝"),
    ("明天", "明朝"),
    ("昨天", "昨日"),
    ("这个", "迭个"),
    ("没有", "呒没"),
    ("怎么", "哪能"),
    ("东西", "物事"),
    ("说", "讲"),
    ("不", "勿"),
    ("钱", "钞票"),
    ("他", "伊"),
    ("她", "伊"),
    ("的", "个"),
    ("在", "勒"),
    ("给", "拨"),
    ("我", "阿拉"),
]
# Whisper-style slips: homophones and near-homophones.
SLIPS = [
    ("快递", "快地"),
    ("外卖", "外麦"),
    ("预约", "预乐"),
    ("医院", "一院"),
    ("社区", "社去"),
    ("已经", "以经"),
    ("记录", "纪录"),
    ("通知", "通值"),
    ("客服", "克服"),
    ("保险", "保显"),
    ("电话", "店话"),
    ("体检", "题检"),
    ("续保", "续宝"),
    ("居委会", "居委回"),
    ("师傅", "师父"),
    ("银行", "因行"),
    ("超市", "朝市"),
]

# Hand-written lines: the retellings templates do not produce.
HAND = [
    ("delivery", "mandarin", "昨天有个人打电话给我，问我是不是住三楼，原来是送快递的"),
    ("delivery", "shanghainese", "快递师傅讲阿拉个包裹淋湿脱了，伊重新包好再送过来"),
    ("delivery", "mandarin", "快递员说我的件是到付，十二块钱，我给他现金了"),
    ("delivery", "shanghainese", "早浪向有只电话，讲阿拉囡儿寄个物事到了，放勒门卫间"),
    ("food", "mandarin", "面馆老板打电话说我点的面少放了个蛋，下次送我一个"),
    ("food", "shanghainese", "送菜个小伙子讲电梯坏脱了，叫阿拉到楼下拿"),
    ("food", "mandarin", "外卖到了，骑手说放门口了，让我自己拿一下"),
    ("taxi", "mandarin", "出租车司机打电话说我钱包落在车上了，他给我送过来"),
    ("taxi", "shanghainese", "叫个车子，司机讲伊勒小区门口等阿拉"),
    ("clinic", "mandarin", "社区医生打电话说我的高血压药要换一种，明天去开"),
    ("clinic", "shanghainese", "医院里打电话来讲阿拉个号子改到礼拜三了"),
    ("clinic", "mandarin", "牙医诊所说我假牙做好了，下礼拜去戴"),
    ("telecom", "mandarin", "移动公司打电话说我话费套餐可以换个便宜的，我说不用了"),
    ("telecom", "shanghainese", "煤气公司讲要上门换表，问阿拉啥辰光勒屋里"),
    ("telecom", "mandarin", "短信说我家水费这个月一百二，已经自动扣了"),
    ("insurance", "mandarin", "保险公司打电话说我的保单到期了，可以去柜台续保，我说我让女儿帮我弄"),
    ("insurance", "shanghainese", "保险公司个人讲阿拉个理赔钞票已经打到卡里向了"),
    ("community", "mandarin", "居委会打电话说这礼拜六有防诈骗讲座，让我去听听"),
    ("community", "shanghainese", "居委会阿姨讲明朝有免费量血压，叫阿拉早点去"),
    ("community", "mandarin", "老年大学说下学期书法班开始报名了，学费两百块去现场交"),
    ("community", "mandarin", "街道说我八十岁了，每个月有高龄补贴，直接打到社保卡上"),
    ("shop", "mandarin", "超市说我积分可以换一桶油，让我拿会员卡去服务台换"),
    ("shop", "shanghainese", "药房个小姑娘讲阿拉配个药到了，叫阿拉去拿"),
    ("shop", "mandarin", "家电店说我买的空调明天上门安装，装好了再付尾款"),
    ("bank", "mandarin", "你们银行打电话说我的定期到期了，让我来柜台办一下转存"),
    ("bank", "shanghainese", "银行个客户经理讲阿拉张卡要换芯片卡了，叫阿拉带身份证来"),
    ("bank", "mandarin", "银行客服打电话说最近骗子多，让我别把验证码告诉别人"),
    ("bank", "mandarin", "短信提醒我养老金到账三千二，我来看看是不是真的到了"),
    ("family", "mandarin", "我孙子考上大学了，我想给他两万块学费，他打电话说不用"),
    ("family", "shanghainese", "阿拉儿子打电话来讲伊自家会得还房贷，叫阿拉勿要操心"),
    ("family", "mandarin", "女儿跟我说她换了工作，工资高一点了，让我放心"),
    ("family", "mandarin", "老伴让我今天来银行把电费交了，顺便查一下余额"),
    ("family", "shanghainese", "阿拉囡儿讲下个号头带外孙来白相，阿拉要准备点钞票拨小囡"),
    ("family", "mandarin", "儿子说过年红包他来包，我就不用给孙子转钱了"),
    ("shop", "mandarin", "商场打电话说我抽奖抽中了一张十块钱的代金券，下次买东西可以用"),
    ("community", "mandarin", "派出所通知我身份证快到期了，让我带户口本去换"),
    ("community", "shanghainese", "派出所个民警讲阿拉个居住证办好了，叫阿拉去拿"),
    ("telecom", "mandarin", "电信客服说我家宽带故障修好了，问我现在网速怎么样"),
    ("taxi", "mandarin", "司机说到了，让我带好东西下楼，车费到了再付"),
    ("clinic", "mandarin", "医院说我的检查结果正常，不用再去了"),
]


def _wu(text: str, rng: random.Random) -> str:
    for mandarin, wu in WU:
        if mandarin in text and rng.random() < 0.7:
            text = text.replace(mandarin, wu)
    return text


def _slip(text: str, rng: random.Random) -> str:
    options = [(a, b) for a, b in SLIPS if a in text]
    if options:
        a, b = rng.choice(options)
        text = text.replace(a, b, 1)
    if rng.random() < 0.3:  # dropped punctuation, as Whisper often does
        text = text.replace("，", " " if rng.random() < 0.5 else "")
    return text


def _fill(template: str, rng: random.Random) -> str:
    out = template
    for key, values in FILL.items():
        while "{" + key + "}" in out:
            out = out.replace("{" + key + "}", rng.choice(values), 1)
    return out


def build() -> list[dict[str, str]]:
    """Every row, in a stable order."""
    rng = random.Random(SEED)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(text: str, topic: str, dialect: str, split: str, source: str) -> None:
        if text not in seen:
            seen.add(text)
            rows.append(
                {"text": text, "topic": topic, "dialect": dialect, "split": split, "source": source}
            )

    n_template = 0
    for topic, templates in TEMPLATES.items():
        for template in templates:
            split = "test" if n_template % TEST_EVERY == TEST_EVERY - 1 else "train"
            n_template += 1
            for k in range(8):
                body = _fill(template, rng)
                text = rng.choice(OPENERS) + body + rng.choice(CLOSERS)
                dialect = "mandarin"
                if k % 3 == 1:
                    text, dialect = _wu(text, rng), "shanghainese"
                if k % 4 == 2:
                    text = _slip(text, rng)
                add(text, topic, dialect, split, "template")
    for i, (topic, dialect, text) in enumerate(HAND):
        split = "test" if i % TEST_EVERY == TEST_EVERY - 1 else "train"
        add(text, topic, dialect, split, "hand")
        add(_slip(text, rng), topic, dialect, split, "hand")
    return rows


def render(rows: list[dict[str, str]]) -> str:
    """The file's text: one JSON object per line."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> None:
    """Write (or, with --check, verify) the everyday-calls file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    text = render(build())
    if args.check:
        if not args.out.exists() or args.out.read_text("utf-8") != text:
            print(f"{args.out} is stale: run tools/make_everyday_calls.py", file=sys.stderr)
            sys.exit(1)
        return
    args.out.write_text(text, "utf-8")
    rows = text.count("\n")
    print(f"wrote {rows} rows to {args.out}")


if __name__ == "__main__":
    main()
