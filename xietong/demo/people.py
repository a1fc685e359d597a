"""Synthetic people for the demo: realistic names and valid resident ID numbers, reproducible by seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from xietong.lib import idnumber

# The most common surnames (roughly by frequency) and given-name characters; weights favour the top.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
    "史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂"
    "柴焦向柳邢岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳"
    "裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵解强柴华车冉房边"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红志建国文辉宇浩然子涵欣怡"
    "梓轩雨桐思远佳琪晨阳一鸣嘉怡俊杰梦瑶博文天佑雅婷海燕晓东春梅丽华永刚德胜振华立新"
    "凤英淑珍秀兰桂芝"
)
MINORITY_NAMES = ["买买提·艾力", "阿依古丽·吐尔逊", "热依汗·买买提", "巴特尔·其其格", "扎西·次仁"]


@dataclass(frozen=True)
class SyntheticPerson:
    name: str
    id_number: str
    phone: str
    is_migrant_worker: bool


def synthetic_id(rng: random.Random, region_code: str, birth: date, gender: str) -> str:
    """A valid 18-digit ID number for the region, birth date and gender (17th digit odd = male)."""
    sequence = rng.randrange(0, 100) * 10 + int(rng.choice("13579") if gender == "M" else rng.choice("02468"))
    body = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return body + idnumber.check_digit(body)


def synthetic_name(rng: random.Random) -> str:
    """A plausible Han name (two or three characters), now and then a minority name with a middle dot."""
    if rng.random() < 0.01:
        return rng.choice(MINORITY_NAMES)
    surname = SURNAMES[min(int(rng.expovariate(1 / 25)), len(SURNAMES) - 1)]
    length = 1 if rng.random() < 0.16 else 2
    return surname + "".join(rng.choice(GIVEN) for _ in range(length))


def synthetic_people(
    seed: int, region_code: str, count: int, *, born_from: date = date(1962, 1, 1), years: int = 42
) -> list[SyntheticPerson]:
    """``count`` distinct people registered in ``region_code``, born in the ``years`` from ``born_from``
    (by default 1962–2004: people of working age)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    people: list[SyntheticPerson] = []
    while len(people) < count:
        birth = born_from + timedelta(days=rng.randrange(0, years * 365))
        gender = rng.choice("MF")
        number = synthetic_id(rng, region_code, birth, gender)
        if number in seen:
            continue
        seen.add(number)
        phone = f"1{rng.choice('3578')}{rng.randrange(0, 10**9):09d}"
        people.append(SyntheticPerson(synthetic_name(rng), number, phone, rng.random() < 0.2))
    return people
