"""Normalisation for comparison (ARCHITECTURE.md §4), vectorised for rosters of millions of rows.

ID numbers, birth dates, genders and phones are normalised in DuckDB SQL. Names are normalised in
Python once per *distinct* name (rosters repeat names a lot): NFKC, one middle dot, traditional →
simplified (one OpenCC call per batch), and a pinyin key read per character from pypinyin's table
with surnames read as surnames (曾 zeng, 单 shan …). Characters a system could not store ("?", "*",
a private-use code point) become the wildcard ``?``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from xietong.lib import idnumber
from xietong.lib import names as lib_names

WILDCARD = "?"
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
_UNKNOWN = re.compile(r"[?？*＊□■�]")
_SPACES = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0003134f]")


def check_digits_arrow(bodies: Any) -> Any:
    """Vectorised ISO 7064 MOD 11-2: the check character of each 17-digit body (null otherwise).

    Registered in DuckDB as ``xt_check17``; NumPy does a million bodies in a few milliseconds, where
    the same arithmetic as SQL string functions costs seconds.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = bodies.combine_chunks() if isinstance(bodies, pa.ChunkedArray) else bodies
    ok = pc.fill_null(pc.match_substring_regex(array, "^[0-9]{17}$"), False)
    filled = pc.if_else(ok, array, "0" * 17).cast(pa.binary()).cast(pa.binary(17))
    offset = filled.offset * 17
    digits = np.frombuffer(filled.buffers()[1], dtype=np.uint8)[offset : offset + len(filled) * 17]
    sums = (digits.reshape(-1, 17).astype(np.int64) - 48) @ np.array(idnumber.WEIGHTS, dtype=np.int64)
    chars = np.array(list(idnumber.CHECK_CHARS))[sums % 11]
    return pa.array(chars, type=pa.string(), mask=~ok.to_numpy(zero_copy_only=False))


def register(con: Any) -> None:
    """Create the SQL macros and the vectorised check-digit function on a DuckDB connection."""
    known = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'xt_check17'"
    ).fetchall()[0]
    if not known or not known[0]:
        con.create_function("xt_check17", check_digits_arrow, ["VARCHAR"], "VARCHAR", type="arrow")
    con.execute(SQL_MACROS)


# SQL macros: cleaning and checking ID numbers, dates in the forms provincial systems use, genders.
SQL_MACROS = r"""
CREATE OR REPLACE TEMP MACRO xt_id_clean(s) AS
    upper(regexp_replace(translate(s, '０１２３４５６７８９ｘＸ', '0123456789XX'), '[^0-9A-Za-z]', '', 'g'));
CREATE OR REPLACE TEMP MACRO xt_id_check(b) AS xt_check17(b);
CREATE OR REPLACE TEMP MACRO xt_id18(c) AS CASE
    WHEN regexp_full_match(c, '[0-9]{15}')
        THEN substr(c, 1, 6) || '19' || substr(c, 7, 9) || xt_id_check(substr(c, 1, 6) || '19' || substr(c, 7, 9))
    WHEN regexp_full_match(c, '[0-9]{17}[0-9X]') THEN c
    ELSE NULL END;
CREATE OR REPLACE TEMP MACRO xt_id_valid(n) AS
    n IS NOT NULL AND substr(n, 18, 1) = xt_id_check(substr(n, 1, 17))
    AND try_strptime(substr(n, 7, 8), '%Y%m%d') IS NOT NULL;
CREATE OR REPLACE TEMP MACRO xt_date(s) AS CAST(
    try_strptime(regexp_replace(replace(replace(s, '年', '-'), '月', '-'), '[日\s]', '', 'g'),
                 ['%Y-%m-%d', '%Y%m%d', '%Y/%m/%d', '%Y.%m.%d']) AS DATE);
CREATE OR REPLACE TEMP MACRO xt_gender(s) AS CASE
    WHEN upper(trim(s)) IN ('男', 'M', '1', 'MALE', '男性') THEN 'M'
    WHEN upper(trim(s)) IN ('女', 'F', '2', 'FEMALE', '女性') THEN 'F'
    ELSE NULL END;
CREATE OR REPLACE TEMP MACRO xt_hamming(a, b) AS
    CASE WHEN length(a) = length(b) THEN hamming(a, b) ELSE 99 END;
CREATE OR REPLACE TEMP MACRO xt_phone(s) AS nullif(right(regexp_replace(s, '[^0-9]', '', 'g'), 11), '');
"""


@functools.cache
def _char_pinyin() -> dict[str, str]:
    """Each Han character's first reading without tones (from pypinyin's own table)."""
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[str, str] = {}
    for codepoint, readings in pinyin_dict.items():
        first = readings.split(",")[0]
        plain = "".join(c for c in unicodedata.normalize("NFKD", first) if not unicodedata.combining(c))
        table[chr(codepoint)] = plain.replace("ü", "v").lower()
    return table


_PLAIN_HAN = re.compile(r"[\u4e00-\u9fff]{1,8}")


def clean_name(value: str) -> str:
    """NFKC, no stray spaces between Han characters, one middle dot, unknown characters as ``?``."""
    if _PLAIN_HAN.fullmatch(value):  # most names: nothing to clean (NFKC leaves these unchanged)
        return value
    text = _PRIVATE_USE.sub(WILDCARD, unicodedata.normalize("NFKC", value or "").strip())
    text = _UNKNOWN.sub(WILDCARD, text)
    text = lib_names.normalize_name(text).original if lib_names.MIDDLE_DOT not in text else text
    if _HAN.search(text):
        text = _SPACES.sub("", text)
    return text


def pinyin_key(name: str) -> str:
    """Lower-case pinyin without separators; the surname read as a surname; ASCII (pinyin typed for a
    character the system lacked) kept; the wildcard kept."""
    table = _char_pinyin()
    surname, given = lib_names.split_surname(name)
    parts: list[str] = []
    if surname:
        reading = lib_names.SURNAME_READINGS.get(surname)
        parts.append("".join(reading) if reading else "".join(table.get(c, c) for c in surname))
    for char in given if surname else name:
        if char == lib_names.MIDDLE_DOT or char.isspace():
            continue
        parts.append(table.get(char, char.lower()))
    return "".join(parts)


def normalize_names(raw_names: Iterable[str]) -> list[tuple[str, str, str]]:
    """``(raw, simplified name, pinyin key)`` for each distinct raw name."""
    raws = [raw for raw in dict.fromkeys(raw_names) if raw]
    cleaned = [clean_name(raw) for raw in raws]
    simplified = lib_names.to_simplified_once("\n".join(cleaned)).split("\n") if cleaned else []
    if len(simplified) != len(cleaned):  # a newline inside a name: convert one by one
        simplified = [lib_names.to_simplified_once(text) for text in cleaned]
    return [(raw, simple, pinyin_key(simple)) for raw, simple in zip(raws, simplified, strict=True)]


def normalize_table(con: Any, raw: str, out: str) -> None:
    """Create ``out`` from the raw roster table ``raw``: normalised columns for comparison."""
    normalize_tables(con, [(raw, out)])


def normalize_tables(con: Any, tables: list[tuple[str, str]]) -> None:
    """Normalise each ``(raw, out)`` pair; names shared by the rosters are normalised once."""
    import pyarrow as pa

    register(con)
    union = " UNION ".join(f"SELECT name FROM {raw} WHERE name IS NOT NULL" for raw, _out in tables)
    distinct = [row[0] for row in con.execute(union).fetchall()]
    rows = normalize_names(distinct)
    names = pa.table(
        {
            "raw": [r[0] for r in rows],
            "name_norm": [r[1] for r in rows],
            "name_key": [r[2] for r in rows],
        }
    )
    con.register("xt_names_view", names)
    for raw, out in tables:
        _normalize_one(con, raw, out)
    con.unregister("xt_names_view")


def _normalize_one(con: Any, raw: str, out: str) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {out} AS
        WITH base AS (
            SELECT r.*, xt_id_clean(r.id_number) AS id_clean FROM {raw} r
        ), ids AS (
            SELECT *, xt_id18(id_clean) AS id18 FROM base
        ), checked AS (
            SELECT *, CASE WHEN xt_id_valid(id18) THEN id18 END AS valid18 FROM ids
        )
        SELECT
            ids.record_id, ids.line,
            ids.valid18 AS id_valid,
            CASE WHEN length(coalesce(ids.id18, ids.id_clean)) = 18 THEN coalesce(ids.id18, ids.id_clean) END AS id_any,
            n.name_norm, n.name_key,
            coalesce(xt_date(ids.birth_date), CAST(strptime(substr(ids.valid18, 7, 8), '%Y%m%d') AS DATE)) AS birth,
            coalesce(xt_gender(ids.gender),
                     CASE WHEN ids.valid18 IS NOT NULL THEN CASE WHEN CAST(substr(ids.valid18, 17, 1) AS INT) % 2 = 1
                          THEN 'M' ELSE 'F' END END) AS gender,
            xt_phone(ids.phone) AS phone,
            ids.region_code
        FROM checked ids LEFT JOIN xt_names_view n ON n.raw = ids.name
        """
    )
