"""The comparison passes: exact on valid ID numbers, then scored comparison of what is left, then
one-to-one resolution. DuckDB runs every pass in-process (the default engine).

Scoring follows Fellegi–Sunter: each field's agreement level adds log2(m/u) to a match weight.
The name's u is term-frequency adjusted (张伟 agreeing is weak evidence, 欧阳修远 agreeing is strong),
and a disagreeing valid ID number weighs heavily against a match, so twins and namesakes born on
the same day are not matched. Pairs above ``threshold`` are matches; pairs in the band below it go
to clerical review instead of being guessed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import normalize, private, roster

# m and u probabilities per agreement level (m: among true pairs; u: among random candidate pairs).
# Name u is replaced per pair by the name's frequency in the right-hand roster (term frequency).
M_U: dict[str, dict[str, tuple[float, float]]] = {
    # A typo usually breaks the check digit, so two *valid* numbers that differ are two people (twins!).
    "id": {
        "near": (0.04, 1e-6),
        "two": (0.01, 1e-4),
        "valid_diff": (0.0005, 0.95),
        "diff": (0.002, 0.95),
        "missing": (0.05, 0.05),
    },
    "name": {"exact": (0.90, 0.0), "key": (0.06, 0.0), "wild": (0.03, 0.001), "diff": (0.01, 0.98)},
    "birth": {"same": (0.97, 1 / 20000), "diff": (0.03, 1.0), "missing": (0.05, 0.05)},
    "gender": {"same": (0.995, 0.5), "diff": (0.005, 0.5), "missing": (0.05, 0.05)},
    "phone": {"same": (0.6, 1e-6), "diff": (0.3, 0.9), "missing": (0.1, 0.1)},
}


@dataclass
class MatchOptions:
    """How to compare: threshold for matches, the lower edge of the review band."""

    threshold: float = 0.99
    review_floor: float = 0.5
    one_to_one: bool = True
    private: bool = False  # inputs are private-mode encodings (``xietong match-encode``)


@dataclass
class MatchSummary:
    """What a run read, found and spent, for the terminal summary."""

    rows: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, dict[str, int]] = field(default_factory=dict)
    pairs_by_pass: dict[str, int] = field(default_factory=dict)
    review: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _scalar(con: Any, sql: str) -> Any:
    """The single value a query returns."""
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def _weight(field_name: str, level: str) -> float:
    m, u = M_U[field_name][level]
    return math.log2(m / u) if u else 0.0


def _level_sql(field_name: str, expr: str) -> str:
    cases = " ".join(
        f"WHEN {expr} = '{level}' THEN {_weight(field_name, level)!r}" for level in M_U[field_name]
    )
    return f"(CASE {cases} ELSE 0 END)"


def run(
    left: Path,
    right: Path,
    *,
    mapping_left: dict[str, str],
    mapping_right: dict[str, str],
    options: MatchOptions,
    progress: Callable[[str], None] = lambda _stage: None,
) -> tuple[Any, Any, MatchSummary]:
    """Compare two rosters. Returns (pairs, review) as Arrow tables and the summary."""
    import duckdb

    summary = MatchSummary()
    con = duckdb.connect()
    with roster.make_workdir() as workdir:
        clock = time.perf_counter()
        if options.private:
            progress("读取加密编码")
            summary.rows["left"] = private.load_encoded(con, left, "l")
            summary.rows["right"] = private.load_encoded(con, right, "r")
            summary.seconds["读取"] = time.perf_counter() - clock
            mode = PRIVATE
        else:
            progress("读取名册")
            summary.rows["left"] = roster.load(con, left, "raw_l", mapping_left, Path(workdir))
            summary.rows["right"] = roster.load(con, right, "raw_r", mapping_right, Path(workdir))
            summary.seconds["读取"] = time.perf_counter() - clock
            clock = time.perf_counter()
            progress("规范化")
            normalize.normalize_table(con, "raw_l", "l")
            normalize.normalize_table(con, "raw_r", "r")
            for side, table, raw in (("left", "l", "raw_l"), ("right", "r", "raw_r")):
                summary.invalid[side] = _invalid_counts(con, table, raw)
            summary.seconds["规范化"] = time.perf_counter() - clock
            mode = PLAIN

        clock = time.perf_counter()
        progress("精确比对（身份证号）")
        con.execute(
            f"""
            CREATE TABLE exact AS
            SELECT l.record_id AS left_id, r.record_id AS right_id, 1.0::DOUBLE AS score,
                   '身份证号一致' AS reason, 'exact' AS pass
            FROM l JOIN r ON l.{mode.exact} = r.{mode.exact}
            """
        )
        summary.pairs_by_pass["exact"] = _scalar(con, "SELECT count(*) FROM exact")
        summary.seconds["精确比对"] = time.perf_counter() - clock

        clock = time.perf_counter()
        progress("概率比对（其余记录）")
        _scored_pass(con, options, mode)
        summary.pairs_by_pass["scored"] = _scalar(
            con, f"SELECT count(*) FROM scored WHERE score >= {options.threshold}"
        )
        summary.seconds["概率比对"] = time.perf_counter() - clock

        clock = time.perf_counter()
        progress("一对一归并")
        pairs, review = _resolve(con, options)
        summary.review = review.num_rows
        summary.seconds["归并"] = time.perf_counter() - clock
    con.close()
    return pairs, review, summary


def _invalid_counts(con: Any, table: str, raw: str) -> dict[str, int]:
    row = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE raw.id_number IS NOT NULL AND t.id_valid IS NULL),
               count(*) FILTER (WHERE raw.id_number IS NULL),
               count(*) FILTER (WHERE raw.birth_date IS NOT NULL AND xt_date(raw.birth_date) IS NULL),
               count(*) FILTER (WHERE raw.name IS NULL)
        FROM {table} t JOIN {raw} raw USING (record_id)
        """
    ).fetchone()
    return {"身份证号无效": row[0], "身份证号为空": row[1], "出生日期无法识别": row[2], "姓名为空": row[3]}


@dataclass(frozen=True)
class Mode:
    """What the passes compare: plain normalised values, or private-mode keyed encodings.

    ``exact`` is the column joined in the exact pass, ``blocks`` the candidate-pair rules, and the
    ``*_level`` SQL expressions map a pair (``a`` left, ``b`` right) to the agreement levels of ``M_U``.
    """

    exact: str
    blocks: tuple[str, ...]
    id_level: str
    name_level: str
    birth_level: str
    gender_level: str
    phone_level: str


def _equality_level(column: str, same: str = "same") -> str:
    return (
        f"CASE WHEN a.{column} IS NULL OR b.{column} IS NULL THEN 'missing' "
        f"WHEN a.{column} = b.{column} THEN '{same}' ELSE 'diff' END"
    )


PLAIN = Mode(
    exact="id_valid",
    blocks=(
        "lu.birth = ru.birth AND lu.name_key = ru.name_key",
        "substr(lu.id_any, 1, 14) = substr(ru.id_any, 1, 14)",
        "lu.name_key = ru.name_key AND substr(lu.id_any, 15, 4) = substr(ru.id_any, 15, 4)",
        "lu.phone = ru.phone AND lu.birth = ru.birth",
    ),
    id_level="""CASE WHEN a.id_any IS NULL OR b.id_any IS NULL THEN 'missing'
                     WHEN a.id_valid IS NOT NULL AND b.id_valid IS NOT NULL THEN 'valid_diff'
                     WHEN hamming(a.id_any, b.id_any) <= 1 OR damerau_levenshtein(a.id_any, b.id_any) = 1 THEN 'near'
                     WHEN hamming(a.id_any, b.id_any) = 2 THEN 'two'
                     ELSE 'diff' END""",
    name_level="""CASE WHEN a.name_norm IS NULL OR b.name_norm IS NULL THEN 'diff'
                     WHEN a.name_norm = b.name_norm THEN 'exact'
                     WHEN a.name_key = b.name_key THEN 'key'
                     WHEN (contains(a.name_norm, '?') OR contains(b.name_norm, '?'))
                          AND length(a.name_norm) = length(b.name_norm)
                          AND hamming(a.name_norm, b.name_norm) <= 1 THEN 'wild'
                     ELSE 'diff' END""",
    birth_level=_equality_level("birth"),
    gender_level=_equality_level("gender"),
    phone_level=_equality_level("phone"),
)


def _dice(column: str) -> str:
    return (
        f"(2.0 * bit_count(CAST(a.{column} AS BIT) & CAST(b.{column} AS BIT)) "
        f"/ greatest(bit_count(CAST(a.{column} AS BIT)) + bit_count(CAST(b.{column} AS BIT)), 1))"
    )


PRIVATE = Mode(
    exact="id_hmac",
    blocks=(
        "lu.birth_key = ru.birth_key AND lu.name_key = ru.name_key",
        "lu.phone_key = ru.phone_key AND lu.birth_key = ru.birth_key",
        "lu.phone_key = ru.phone_key AND lu.name_key = ru.name_key",
    ),
    id_level=f"""CASE WHEN a.id_bloom IS NULL OR b.id_bloom IS NULL THEN 'missing'
                     WHEN a.id_hmac IS NOT NULL AND b.id_hmac IS NOT NULL THEN 'valid_diff'
                     WHEN {_dice("id_bloom")} >= 0.90 THEN 'near'
                     WHEN {_dice("id_bloom")} >= 0.80 THEN 'two'
                     ELSE 'diff' END""",
    name_level=f"""CASE WHEN a.name_key IS NULL OR b.name_key IS NULL THEN 'diff'
                     WHEN a.name_key = b.name_key THEN 'exact'
                     WHEN {_dice("name_bloom")} >= 0.8 THEN 'wild'
                     ELSE 'diff' END""",
    birth_level=_equality_level("birth_key"),
    gender_level=_equality_level("gender_key"),
    phone_level=_equality_level("phone_key"),
)


def _scored_pass(con: Any, options: MatchOptions, mode: Mode) -> None:
    """Block the unmatched rows, compare fields, weigh them (Fellegi–Sunter with term frequencies)."""
    candidates = "\n            UNION\n            ".join(
        f"SELECT lu.record_id AS left_id, ru.record_id AS right_id FROM lu JOIN ru ON {rule}"
        for rule in mode.blocks
    )
    con.execute(
        f"""
        CREATE TABLE lu AS SELECT * FROM l WHERE record_id NOT IN (SELECT left_id FROM exact);
        CREATE TABLE ru AS SELECT * FROM r WHERE record_id NOT IN (SELECT right_id FROM exact);
        CREATE TABLE tf AS SELECT name_key, count(*)::DOUBLE / (SELECT count(*) FROM r) AS u FROM r
            WHERE name_key IS NOT NULL GROUP BY name_key;
        CREATE TABLE candidates AS
            {candidates};
        """
    )
    name_weight_exact = "log2(0.90 / greatest(coalesce(tf.u, 1.0 / (SELECT count(*) FROM r)), 1e-7))"
    con.execute(
        f"""
        CREATE TABLE compared AS
        WITH c AS (
            SELECT c.left_id, c.right_id, b.name_key AS rkey,
                {mode.id_level} AS id_level,
                {mode.name_level} AS name_level,
                {mode.birth_level} AS birth_level,
                {mode.gender_level} AS gender_level,
                {mode.phone_level} AS phone_level
            FROM candidates c JOIN lu a ON a.record_id = c.left_id JOIN ru b ON b.record_id = c.right_id
        )
        SELECT c.*, (
            {_level_sql("id", "id_level")}
            + CASE WHEN name_level = 'exact' THEN {name_weight_exact}
                   WHEN name_level = 'key' THEN log2(0.06 / greatest(coalesce(tf.u, 1e-6), 1e-7))
                   ELSE {_level_sql("name", "name_level")} END
            + {_level_sql("birth", "birth_level")}
            + {_level_sql("gender", "gender_level")}
            + {_level_sql("phone", "phone_level")}
        ) AS weight
        FROM c LEFT JOIN tf ON tf.name_key = c.rkey
        """
    )
    # Prior odds of a match among all left×right pairs: expected matches ≈ the smaller unmatched roster.
    prior = _scalar(
        con,
        "SELECT log2(least((SELECT count(*) FROM lu), (SELECT count(*) FROM ru)) + 1)"
        " - log2((SELECT count(*) FROM lu)::DOUBLE * (SELECT count(*) FROM ru) + 1)",
    )
    con.execute(
        f"""
        CREATE TABLE scored AS
        SELECT left_id, right_id,
               1 / (1 + pow(2, -(weight + {prior!r}))) AS score,
               {_REASON_SQL} AS reason, 'scored' AS pass
        FROM compared
        WHERE 1 / (1 + pow(2, -(weight + {prior!r}))) >= {options.review_floor}
        """
    )


# The reason in words a clerk understands, from the agreement levels.
_REASON_SQL = """
    concat_ws('，',
        CASE id_level WHEN 'near' THEN '身份证号一位之差（或相邻两位颠倒）' WHEN 'two' THEN '身份证号两位不同'
                      WHEN 'missing' THEN '一方身份证号缺失' WHEN 'valid_diff' THEN '两个不同的有效身份证号'
                      ELSE '身份证号不同' END,
        nullif(concat_ws('、',
            CASE WHEN name_level IN ('exact', 'key') THEN '姓名' END,
            CASE WHEN birth_level = 'same' THEN '出生日期' END,
            CASE WHEN gender_level = 'same' THEN '性别' END,
            CASE WHEN phone_level = 'same' THEN '手机号' END) || '一致', '一致'),
        CASE WHEN name_level = 'key' THEN '姓名同音（繁简或写法不同）'
             WHEN name_level = 'wild' THEN '姓名有生僻字替代符' END)
"""


def _resolve(con: Any, options: MatchOptions) -> tuple[Any, Any]:
    """Keep each record in at most one match (best score first); the uncertain band goes to review."""
    con.execute(
        f"""
        CREATE TABLE all_pairs AS
            SELECT * FROM exact
            UNION ALL SELECT left_id, right_id, score, reason, pass FROM scored WHERE score >= {options.threshold}
        """
    )
    if options.one_to_one:
        con.execute(
            """
            CREATE TABLE final AS SELECT * FROM (
                SELECT *, row_number() OVER (PARTITION BY left_id ORDER BY score DESC, right_id) AS rl,
                          row_number() OVER (PARTITION BY right_id ORDER BY score DESC, left_id) AS rr
                FROM all_pairs) WHERE rl = 1 AND rr = 1
            """
        )
    else:
        con.execute("CREATE TABLE final AS SELECT * FROM all_pairs")
    pairs = con.sql(
        "SELECT left_id, right_id, round(score, 4) AS score, reason FROM final ORDER BY left_id, right_id"
    ).to_arrow_table()
    review = con.sql(
        f"""
        SELECT left_id, right_id, round(score, 4) AS score, reason FROM scored
        WHERE score < {options.threshold}
          AND left_id NOT IN (SELECT left_id FROM final) AND right_id NOT IN (SELECT right_id FROM final)
        ORDER BY score DESC, left_id
        """
    ).to_arrow_table()
    return pairs, review
