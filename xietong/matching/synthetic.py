"""Labelled synthetic rosters for measuring the comparison engine (``xietong match-bench``, ``bench/``).

Two rosters of ``size`` rows each share ``overlap`` of their people (400,000 of 1,000,000 by
default), with the dirt provincial systems really hold: ID numbers full-width, spaced, hyphenated,
with a lower-case x, in the legacy 15-digit form, blank, with one digit mistyped or two digits
swapped; names in traditional characters, with stray spaces, middle-dot variants in minority names,
a rare character replaced by "?", "*", its pinyin or a private-use code point; birth dates and
genders in every common form; phones missing or changed. And the traps: surnames drawn by their real
frequency (so 张伟 is common), twins with consecutive ID numbers, and namesakes born the same day.

The truth (which left record is which right record) is written beside the rosters, so precision,
recall and F1 can be counted. Everything is drawn from one seeded generator: the same seed gives the
same files.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Surnames with their approximate share of the population (the larger ones from the 2020 census).
SURNAMES: dict[str, float] = {
    "王": 7.1, "李": 7.2, "张": 6.9, "刘": 5.4, "陈": 4.6, "杨": 3.2, "黄": 2.2, "赵": 2.2,
    "吴": 2.1, "周": 1.9, "徐": 1.75, "孙": 1.55, "马": 1.5, "朱": 1.45, "胡": 1.4, "郭": 1.3,
    "何": 1.3, "高": 1.3, "林": 1.25, "罗": 1.2, "郑": 1.2, "梁": 1.2, "谢": 1.1, "宋": 1.0,
    "唐": 0.9, "许": 0.86, "韩": 0.83, "冯": 0.8, "邓": 0.78, "曹": 0.75, "彭": 0.7, "曾": 0.67,
    "肖": 0.67, "田": 0.64, "董": 0.63, "袁": 0.6, "潘": 0.59, "于": 0.58, "蒋": 0.57, "蔡": 0.55,
    "余": 0.54, "杜": 0.52, "叶": 0.51, "程": 0.5, "苏": 0.48, "魏": 0.47, "吕": 0.46, "丁": 0.45,
    "任": 0.43, "沈": 0.41, "钟": 0.4, "姜": 0.39, "崔": 0.38, "谭": 0.37, "陆": 0.36, "范": 0.35,
    "汪": 0.34, "廖": 0.33, "石": 0.32, "金": 0.31, "韦": 0.3, "贾": 0.3, "夏": 0.29, "付": 0.28,
    "方": 0.28, "邹": 0.27, "熊": 0.26, "白": 0.26, "孟": 0.25, "秦": 0.25, "邱": 0.24, "侯": 0.24,
    "江": 0.23, "尹": 0.23, "薛": 0.22, "闫": 0.22, "段": 0.21, "雷": 0.21, "龙": 0.2, "黎": 0.2,
    "史": 0.19, "陶": 0.19, "贺": 0.18, "毛": 0.18, "郝": 0.17, "顾": 0.17, "龚": 0.16, "邵": 0.16,
    "单": 0.08, "解": 0.06, "仇": 0.05, "区": 0.03, "查": 0.04, "朴": 0.05, "翟": 0.08, "覃": 0.08,
    "欧阳": 0.05, "司马": 0.01, "诸葛": 0.01, "上官": 0.01,
}  # fmt: skip

# Characters of given names; earlier ones are more common (drawn with a Zipf-like weight).
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力永健鹏飞斌宇浩凯秀云"
    "峰婷雪琳晶海波亮林宁欣怡佳慧颖丹玲梅莉燕志国成新春荣东晓华光天龙鑫博源泽俊豪昊然子轩"
    "梓涵一诺雨彤思琪可馨若曦嘉怡振宏伦昌德福生贵珍凤琴秀彬宝鸿胜学祥才发武清亚君晨阳毅"
    "瑞俊楠帅雯倩璐蕾薇媛瑶婕嘉铭锦钰璇琦煜炜烨翔鹤麟骏驰骞骁"
)
# Given names of one character are rarer but pile up on a few characters (张伟, 王芳, 李娜 …).
SINGLE_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚"
MINORITY_PARTS = (
    "买买提", "艾力", "阿依古丽", "吐尔逊", "热依拉", "阿卜杜拉", "古丽娜尔", "努尔", "艾尔肯",
    "帕提古丽", "迪丽热巴", "玉素甫", "巴图", "其其格", "乌云", "斯琴", "阿不都", "依明",
)  # fmt: skip
DOT_VARIANTS = ("·", "•", ".", "・", "﹒")
PROVINCES = ("11", "12", "13", "31", "32", "33", "34")


@dataclass(frozen=True)
class Dirt:
    """How often each kind of dirt appears in one record (independently on each side)."""

    id_blank: float = 0.025
    id_typo: float = 0.01
    id_swap: float = 0.005
    id_legacy15: float = 0.03
    id_fullwidth: float = 0.03
    id_spaced: float = 0.03
    id_lower_x: float = 0.5
    name_traditional: float = 0.06
    name_spaces: float = 0.02
    name_rare: float = 0.01
    birth_blank: float = 0.03
    gender_blank: float = 0.1
    phone_present: float = 0.6
    phone_changed: float = 0.2
    twins: float = 0.01
    namesakes: float = 0.01
    minority: float = 0.01


@dataclass(frozen=True)
class Generated:
    """Paths of the two rosters and the truth, and the number of true pairs."""

    left: Path
    right: Path
    truth: Path
    true_pairs: int


@functools.cache
def _county_codes() -> tuple[str, ...]:
    from xietong.lib import idnumber

    return tuple(r.code for r in idnumber.iter_regions() if r.level == "county" and r.code[:2] in PROVINCES)


def _check_char(body: str) -> str:
    from xietong.lib import idnumber

    return idnumber.check_digit(body)


def _people(rng: Any, count: int, dirt: Dirt, chunk: tuple[int, int] = (0, 1)) -> dict[str, list[Any]]:
    """``count`` distinct people: name, birth date, gender, 18-digit ID, phone, region.

    Chunk ``k`` of ``n`` draws birth days ``k, k+n, k+2n …`` only, so that no two chunks can give
    two people the same ID number.
    """
    import numpy as np

    surnames = list(SURNAMES)
    weights = np.array(list(SURNAMES.values()))
    surname = np.array(surnames, dtype=object)[rng.choice(len(surnames), count, p=weights / weights.sum())]
    zipf = 1 / np.arange(1, len(GIVEN_CHARS) + 1) ** 0.8
    chars = np.array(list(GIVEN_CHARS), dtype=object)
    first = chars[rng.choice(len(chars), count, p=zipf / zipf.sum())]
    second = chars[rng.choice(len(chars), count, p=zipf / zipf.sum())]
    single = rng.random(count) < 0.15
    single_zipf = 1 / np.arange(1, len(SINGLE_CHARS) + 1) ** 1.2
    single_char = np.array(list(SINGLE_CHARS), dtype=object)[
        rng.choice(len(SINGLE_CHARS), count, p=single_zipf / single_zipf.sum())
    ]
    minority = rng.random(count) < dirt.minority
    parts = np.array(MINORITY_PARTS, dtype=object)
    m1, m2 = parts[rng.integers(0, len(parts), count)], parts[rng.integers(0, len(parts), count)]
    names = [
        f"{a}·{b}" if is_min else (s + c if is_single else s + f + g)
        for s, f, g, c, is_single, is_min, a, b in zip(
            surname, first, second, single_char, single, minority, m1, m2, strict=True
        )
    ]
    start = dt.date(1955, 1, 1).toordinal()
    number, chunks = chunk
    span = dt.date(2004, 12, 31).toordinal() - start
    days = number + chunks * rng.integers(0, span // chunks, count)
    births = [dt.date.fromordinal(start + int(d)) for d in days]
    counties = np.array(_county_codes(), dtype=object)
    region = counties[rng.integers(0, len(counties), count)]
    sequence = rng.integers(0, 1000, count)
    ids = [_id18(r, b, int(s)) for r, b, s in zip(region, births, sequence, strict=True)]
    phones = [f"1{p}" for p in rng.integers(3_000_000_000, 9_999_999_999, count)]
    return {"name": names, "birth": births, "region": list(region), "sequence": list(sequence), "id": ids,
            "phone": phones}  # fmt: skip


def _make_ids_unique(rng: Any, people: dict[str, list[Any]]) -> None:
    """Real ID numbers are unique: give a later person who drew a taken number another sequence
    number of the same parity (same gender, still a twin's neighbour)."""
    seen: set[str] = set()
    for index, number in enumerate(people["id"]):
        while number in seen:
            sequence = (int(people["sequence"][index]) + 2 * int(rng.integers(1, 50))) % 1000
            people["sequence"][index] = sequence
            number = _id18(people["region"][index], people["birth"][index], sequence)
        people["id"][index] = number
        seen.add(number)


def _id18(region: str, birth: dt.date, sequence: int) -> str:
    body = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + _check_char(body)


def _add_traps(rng: Any, people: dict[str, list[Any]], targets: list[int], sources: list[int]) -> None:
    """Turn the people at ``targets`` into twins or namesakes of the people at ``sources``."""
    for target, source in zip(targets, sources, strict=True):
        birth = people["birth"][source]
        if rng.random() < 0.5:  # a twin: same surname, birthday and county; the next sequence number
            region, sequence = people["region"][source], (int(people["sequence"][source]) + 2) % 1000
            name = people["name"][source][:-1] + GIVEN_CHARS[int(rng.integers(0, 40))]
        else:  # a namesake born the same day elsewhere
            region = _county_codes()[int(rng.integers(0, len(_county_codes())))]
            sequence, name = int(rng.integers(0, 1000)), people["name"][source]
        people["name"][target], people["birth"][target] = name, birth
        people["region"][target], people["sequence"][target] = region, sequence
        people["id"][target] = _id18(region, birth, sequence)


_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _dirty_id(rng: Any, value: str, dirt: Dirt) -> str:
    roll = rng.random()
    if roll < dirt.id_blank:
        return ""
    roll -= dirt.id_blank
    if roll < dirt.id_typo:
        pos = int(rng.integers(0, 17))
        value = value[:pos] + str((int(value[pos]) + int(rng.integers(1, 10))) % 10) + value[pos + 1 :]
    elif roll < dirt.id_typo + dirt.id_swap:
        pos = int(rng.integers(6, 16))
        if value[pos] != value[pos + 1]:
            value = value[:pos] + value[pos + 1] + value[pos] + value[pos + 2 :]
    elif value[6:8] == "19" and roll < dirt.id_typo + dirt.id_swap + dirt.id_legacy15:
        value = value[:6] + value[8:17]
    style = rng.random()
    if style < dirt.id_fullwidth:
        value = value.translate(_FULLWIDTH)
    elif style < dirt.id_fullwidth + dirt.id_spaced:
        sep = " " if rng.random() < 0.5 else "-"
        value = sep.join((value[:6], value[6:14], value[14:])) if len(value) == 18 else value
    if rng.random() < dirt.id_lower_x:
        value = value.replace("X", "x")
    return value


def _dirty_name(rng: Any, value: str, dirt: Dirt, traditional: dict[str, str]) -> str:
    from xietong.matching.normalize import pinyin_key

    if "·" in value:
        value = value.replace("·", DOT_VARIANTS[int(rng.integers(0, len(DOT_VARIANTS)))])
    roll = rng.random()
    if roll < dirt.name_traditional:
        value = traditional.get(value, value)
    elif roll < dirt.name_traditional + dirt.name_spaces:
        value = " ".join(value) if len(value) <= 3 else f" {value} "
    elif roll < dirt.name_traditional + dirt.name_spaces + dirt.name_rare and "·" not in value:
        pos = len(value) - 1
        kind = int(rng.integers(0, 4))
        stand_in = ("?", "*", pinyin_key(value[pos]), "\ue3c1")[kind]
        value = value[:pos] + stand_in
    return value


def _dirty_birth(rng: Any, value: dt.date, dirt: Dirt) -> str:
    if rng.random() < dirt.birth_blank:
        return ""
    form = int(rng.integers(0, 4))
    if form == 0:
        return value.isoformat()
    if form == 1:
        return f"{value:%Y%m%d}"
    if form == 2:
        return f"{value.year}/{value.month}/{value.day}"
    return f"{value.year}年{value.month}月{value.day}日"


_GENDER_FORMS = (("男", "女"), ("M", "F"), ("1", "2"))


def _dirty_gender(rng: Any, id18: str, dirt: Dirt) -> str:
    if rng.random() < dirt.gender_blank:
        return ""
    male = int(id18[16]) % 2 == 1
    form = _GENDER_FORMS[int(rng.integers(0, len(_GENDER_FORMS)))]
    return form[0] if male else form[1]


def _records(
    rng: Any,
    people: dict[str, list[Any]],
    who: Any,
    prefix: str,
    start: int,
    dirt: Dirt,
    traditional: dict[str, str],
) -> tuple[dict[str, list[str]], list[str]]:
    """One roster: a dirty record of each person in ``who``, shuffled; returns columns and ids."""
    order = rng.permutation(len(who))
    ids = [f"{prefix}{start + i:09d}" for i in range(len(who))]
    rows: dict[str, list[str]] = {k: [] for k in ("record_id", "name", "id_number", "birth_date", "gender",
                                                  "phone", "region_code")}  # fmt: skip
    record_of = [""] * len(who)
    for rank, position in enumerate(order):
        person = int(who[position])
        record_of[position] = ids[rank]
        rows["record_id"].append(ids[rank])
        rows["name"].append(_dirty_name(rng, people["name"][person], dirt, traditional))
        rows["id_number"].append(_dirty_id(rng, people["id"][person], dirt))
        rows["birth_date"].append(_dirty_birth(rng, people["birth"][person], dirt))
        rows["gender"].append(_dirty_gender(rng, people["id"][person], dirt))
        phone = ""
        if rng.random() < dirt.phone_present:
            phone = people["phone"][person]
            if prefix == "R" and rng.random() < dirt.phone_changed:
                phone = f"1{int(rng.integers(3_000_000_000, 9_999_999_999))}"
        rows["phone"].append(phone)
        rows["region_code"].append(people["region"][person])
    return rows, record_of


GENERATOR_VERSION = 2  # part of the file names: cached rosters of an older generator are not reused
CHUNK = 250_000  # people are drawn in independent chunks of this many rows, in parallel


def generate(
    out_dir: Path,
    size: int,
    *,
    overlap: float = 0.4,
    seed: int = 2026,
    dirt: Dirt | None = None,
    workers: int = 1,
) -> Generated:
    """Write ``left-…csv``, ``right-…csv`` (``size`` rows each) and ``truth-…csv`` into ``out_dir``.

    The rows are drawn in chunks of ``CHUNK`` (each its own population, seeded from ``seed`` and
    the chunk's number), so the files depend on size and seed only, not on ``workers``. Files
    already there for the same size and seed are reused (generating takes longer than matching).
    """
    from concurrent.futures import ProcessPoolExecutor

    dirt = dirt or Dirt()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{size}-{seed}-v{GENERATOR_VERSION}"
    left, right, truth = (out_dir / f"{kind}-{stem}.csv" for kind in ("left", "right", "truth"))
    shared_total = 0
    chunks = [(start, min(CHUNK, size - start)) for start in range(0, size, CHUNK)]
    if not (left.exists() and right.exists() and truth.exists()):
        jobs = [
            (out_dir, start, rows, overlap, seed + number, dirt, (number, len(chunks)))
            for number, (start, rows) in enumerate(chunks)
        ]
        if workers > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(min(workers, len(jobs))) as pool:
                parts = list(pool.map(_generate_chunk, jobs))
        else:
            parts = [_generate_chunk(job) for job in jobs]
        for kind, target in enumerate((left, right, truth)):
            _concatenate([part[kind] for part in parts], target)
    shared_total = sum(int(rows * overlap) for _start, rows in chunks)
    return Generated(left, right, truth, shared_total)


def _concatenate(parts: list[Path], target: Path) -> None:
    """Join CSV parts (keeping the first header only) into ``target``, atomically; remove the parts."""
    tmp = target.with_suffix(".tmp")
    with tmp.open("wb") as out:
        for number, part in enumerate(parts):
            with part.open("rb") as handle:
                header = handle.readline()
                if number == 0:
                    out.write(header)
                while block := handle.read(1 << 20):
                    out.write(block)
            part.unlink()
    tmp.replace(target)


def _generate_chunk(
    job: tuple[Path, int, int, float, int, Dirt, tuple[int, int]],
) -> tuple[Path, Path, Path]:
    """One chunk of ``size`` rows per roster, record ids numbered from ``start``; returns part files."""
    import numpy as np
    import opencc
    import pyarrow as pa
    import pyarrow.csv as pacsv

    out_dir, start, size, overlap, seed, dirt, chunk = job
    rng = np.random.default_rng(seed)
    shared = int(size * overlap)
    total = 2 * size - shared
    people = _people(rng, total, dirt, chunk)
    left_only = np.arange(shared, size)
    right_only = np.arange(size, total)
    # Traps: some people only on one side are the twin or namesake of someone on the other side.
    for pool in (left_only, right_only):
        count = int(len(pool) * (dirt.twins + dirt.namesakes))
        targets = rng.choice(pool, count, replace=False).tolist()
        sources = rng.integers(0, size, count).tolist()  # shared people or left-only people
        _add_traps(rng, people, targets, sources)
    _make_ids_unique(rng, people)

    converter = opencc.OpenCC("s2t")
    distinct = list(dict.fromkeys(people["name"]))
    traditional = dict(zip(distinct, converter.convert("\n".join(distinct)).split("\n"), strict=True))

    left_people = np.concatenate([np.arange(shared), left_only])
    right_people = np.concatenate([np.arange(shared), right_only])
    left_rows, left_ids = _records(rng, people, left_people, "L", start, dirt, traditional)
    right_rows, right_ids = _records(rng, people, right_people, "R", start, dirt, traditional)
    parts = tuple(out_dir / f".part-{kind}-{seed}-{start}.csv" for kind in ("left", "right", "truth"))
    pacsv.write_csv(pa.table(left_rows), parts[0])
    pacsv.write_csv(pa.table(right_rows), parts[1])
    pacsv.write_csv(pa.table({"left_id": left_ids[:shared], "right_id": right_ids[:shared]}), parts[2])
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class Accuracy:
    """Precision, recall and F1 of found pairs against the truth."""

    found: int
    true_pairs: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.true_pairs if self.true_pairs else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(pairs_csv: Path, truth_csv: Path) -> Accuracy:
    """Count the found pairs that are true pairs."""
    import duckdb

    con = duckdb.connect()
    found, true_pairs, correct = con.execute(
        f"""
        WITH p AS (SELECT DISTINCT left_id::VARCHAR AS l, right_id::VARCHAR AS r
                   FROM read_csv('{pairs_csv}', header=true, all_varchar=true)),
             t AS (SELECT left_id::VARCHAR AS l, right_id::VARCHAR AS r
                   FROM read_csv('{truth_csv}', header=true, all_varchar=true))
        SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM t),
               (SELECT count(*) FROM p JOIN t USING (l, r))
        """
    ).fetchall()[0]
    con.close()
    return Accuracy(found, true_pairs, correct)
