"""Personal-name normalisation shared by the web app and the comparison engine.

Names arrive typed, pasted from spreadsheets, in full-width or traditional characters, with stray
spaces and any of a dozen look-alike dots in minority names (买买提·艾力). ``normalize_name`` makes
one canonical simplified form to compare on, and keeps the pre-conversion form because OpenCC's
traditional-to-simplified conversion merges some distinct surnames (於 and 于, 鍾 and 钟 …).
``pinyin_key`` gives a toneless reading for fuzzy matching, with surnames read as surnames.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from .text import until_stable

MIDDLE_DOT = "\u00b7"

# Han ideographs (basic, extension A, compatibility, extensions B–H) and 〇.
_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Dot look-alikes other than ASCII "." (after NFKC: ･ becomes ・, ﹒ and ． become ".", · becomes ·).
_DOTS = "\u00b7\u2022\u2027\u2219\u22c5\u30fb\u2e31\ua78f\u0387\uff65"
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")
_WHITESPACE = re.compile(r"\s+")
_ANY_DOT = re.compile(rf"\s*[{_DOTS}]\s*")
_ASCII_DOT_NEXT_TO_HAN = re.compile(rf"(?<=[{_CJK}])\s*\.+\s*|\s*\.+\s*(?=[{_CJK}])")
_SPACE_BETWEEN_HAN = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_REPEATED_DOTS = re.compile(rf"{MIDDLE_DOT}{{2,}}")
_HAN = re.compile(rf"[{_CJK}]")

# Traditional surnames that OpenCC folds into a different, also existing surname, so the original
# must be kept to tell the people apart. Deliberately small: only pairs that are distinct surnames.
MERGING_SURNAMES: dict[str, str] = {
    "於": "于",  # 於 Yū and 于 Yú are separate surnames
    "鍾": "钟",  # 鍾 is written 锺 in the 2013 standard table, 鐘 also folds to 钟
    "乾": "干",  # 乾 Qián vs 干 Gān
    "範": "范",  # 範 is a rare surname distinct from 范
    "塗": "涂",  # both surnames in Taiwan
    "後": "后",  # 後 and 后 are distinct surnames
    "黨": "党",  # 党 Dǎng is itself a traditional surname (党项)
    "種": "种",  # 种 Chóng is a surname in its own right
    "鬱": "郁",  # 鬱 Yù vs 郁 Yù
    "穀": "谷",  # 穀 vs 谷 Gǔ
}

# Compound surnames recognised by ``split_surname`` (simplified forms).
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
        "夏侯", "轩辕", "令狐", "钟离", "澹台", "端木", "万俟", "呼延", "南宫", "西门", "闻人", "申屠",
        "太史", "百里", "东郭", "公羊", "赫连", "拓跋", "第五", "独孤", "濮阳", "淳于", "仲孙", "司空",
    }
)  # fmt: skip

# Surname readings (toneless) where pypinyin's everyday reading is wrong for a surname. pypinyin
# 0.55 has no surname mode, so this table is ours.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "曾": ("zeng",),
    "单": ("shan",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "查": ("zha",),
    "朴": ("piao",),
    "翟": ("zhai",),
    "覃": ("qin",),
    "乐": ("yue",),
    "盖": ("ge",),
    "缪": ("miao",),
    "种": ("chong",),
    "召": ("shao",),
    "任": ("ren",),
    "华": ("hua",),
    "过": ("guo",),
    "秘": ("bi",),
    "繁": ("po",),
    "员": ("yun",),
    "阚": ("kan",),
    "句": ("gou",),
    "卜": ("bu",),
    "薄": ("bo",),
    "柏": ("bai",),
    "隗": ("wei",),
    "折": ("she",),
    "么": ("yao",),
    "冼": ("xian",),
    "洗": ("xian",),
    "尉": ("wei",),
    "谌": ("chen",),
    "能": ("nai",),
    "佴": ("nai",),
    "贲": ("ben",),
    "都": ("du",),
    "祭": ("zhai",),
    "朝": ("chao",),
    "莘": ("shen",),
    "厍": ("she",),
    "长": ("chang",),
    "黑": ("he",),
    "尉迟": ("yu", "chi"),
    "长孙": ("zhang", "sun"),
    "万俟": ("mo", "qi"),
    "澹台": ("tan", "tai"),
}


@dataclass(frozen=True)
class NormalizedName:
    """A name in canonical form.

    ``original`` is the name after NFKC, whitespace and dot clean-up but before traditional-to-
    simplified conversion; ``simplified`` is what to store, search and compare on.
    ``has_merged_surname`` is set when the conversion changed a surname into another surname
    (see ``MERGING_SURNAMES``), so a match on ``simplified`` alone may join two families.
    """

    original: str
    simplified: str
    has_merged_surname: bool


@cache
def _converter() -> Any:
    """The OpenCC traditional-to-simplified converter, built once on first use (loading takes ~10 ms)."""
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified_once(text: str) -> str:
    """One OpenCC ``t2s`` pass (``to_simplified`` repeats it until stable); for whole columns joined
    by newlines, which no phrase spans."""
    return str(_converter().convert(text)) if text else ""


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese (OpenCC ``t2s``); other text passes through unchanged.

    Converted until stable: a handful of OpenCC mappings chain (薴 → 苧 → 苎).
    """
    if not text:
        return ""
    for _ in range(3):
        converted = to_simplified_once(text)
        if converted == text:
            break
        text = converted
    return text


def _clean(value: str) -> str:
    """NFKC, whitespace and dot clean-up (everything ``normalize_name`` does except t2s).

    Repeated until stable: deleting a character can let NFKC compose its neighbours.
    """
    return until_stable(_clean_once, value)


def _clean_once(value: str) -> str:
    text = unicodedata.normalize("NFKC", value)
    text = _ZERO_WIDTH.sub("", text)
    text = _WHITESPACE.sub(" ", text).strip()
    text = _ANY_DOT.sub(MIDDLE_DOT, text)
    text = _ASCII_DOT_NEXT_TO_HAN.sub(MIDDLE_DOT, text)
    text = _REPEATED_DOTS.sub(MIDDLE_DOT, text)
    text = _SPACE_BETWEEN_HAN.sub("", text)
    return text.strip(MIDDLE_DOT + " ")


def normalize_name(value: str) -> NormalizedName:
    """Canonicalise a personal name.

    NFKC (full-width letters to ASCII), trim, collapse whitespace and drop it between Han
    characters (single spaces between Latin words stay), turn every dot look-alike between name
    parts into U+00B7 ``·`` (an ASCII ``.`` only next to a Han character, so ``J. Smith`` keeps
    its full stop), drop leading and trailing dots, then convert traditional to simplified.
    """
    original = _clean(value)
    # Cleaning and conversion are repeated until stable so the function is idempotent.
    simplified = original
    for _ in range(3):
        converted = _clean(to_simplified(simplified))
        if converted == simplified:
            break
        simplified = converted
    first = original[:1]
    merged = first in MERGING_SURNAMES and simplified[:1] == MERGING_SURNAMES[first]
    return NormalizedName(original=original, simplified=simplified, has_merged_surname=merged)


def split_surname(name: str) -> tuple[str, str]:
    """``(surname, given name)`` of a normalised Han name; compound surnames are recognised.

    A name with a middle dot (a transcribed minority name) or without Han characters has no
    separable surname: ``("", name)``.
    """
    if not name or MIDDLE_DOT in name or not _HAN.match(name):
        return "", name
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    if len(name) == 2 and name in COMPOUND_SURNAMES:
        return name, ""
    return name[:1], name[1:]


def _syllables(text: str) -> list[str]:
    """Toneless pinyin of Han characters; other runs lower-cased and split on spaces."""
    if not text:
        return []
    from pypinyin import Style, lazy_pinyin

    out: list[str] = []
    for chunk in lazy_pinyin(text, style=Style.NORMAL):
        out.extend(chunk.lower().split())
    return out


def pinyin_key(name: str) -> str:
    """A toneless pinyin reading for fuzzy name matching, syllables separated by spaces.

    ``曾国藩`` → ``zeng guo fan``, ``单雄信`` → ``shan xiong xin``, ``尉迟恭`` → ``yu chi gong``:
    the surname is read with its surname pronunciation (``SURNAME_READINGS``), the given name
    with pypinyin's reading. A minority name with middle dots is read part by part with no
    surname rule, parts joined by ``·``: ``买买提·艾力`` → ``mai mai ti·ai li``.
    """
    simplified = normalize_name(name).simplified
    if MIDDLE_DOT in simplified:
        return MIDDLE_DOT.join(" ".join(_syllables(part)) for part in simplified.split(MIDDLE_DOT))
    surname, given = split_surname(simplified)
    reading = list(SURNAME_READINGS.get(surname, ())) or _syllables(surname)
    return " ".join([*reading, *_syllables(given)])
