"""The Fellegi–Sunter model of the probabilistic pass, as Splink settings (ARCHITECTURE.md §4).

Each comparison has agreement levels written as SQL over the normalised columns (``_l``/``_r`` are
the two records). The levels are the ones a clerk would name in a reason ("身份证号一位之差") and the
reason text is built from them. Starting m and u probabilities come from ``PRIORS``; Splink then
estimates u by random sampling and m by expectation maximisation on the records the exact pass left.

What matters for the traps:
- the name levels are term-frequency adjusted, so 张伟 agreeing is weak evidence and 欧阳修远 strong;
- two *valid* ID numbers that differ weigh heavily against a match (a typo nearly always breaks the
  check digit, so two valid numbers are two people: twins have consecutive numbers);
- names are compared as whole normalised strings, pinyin keys or with wildcards (LIKE matches one
  *character* per ``_``), never with DuckDB's byte-wise edit distances (DuckDB issue 25113).

The SQL is written in DuckDB's dialect; Splink translates it (sqlglot) for Spark. Private mode uses
DuckDB-only bit functions for Dice similarity of Bloom filters and runs on DuckDB only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (label, SQL condition) per level, most specific first; None marks the null level.
Level = tuple[str, str | None]


@dataclass(frozen=True)
class Comparison:
    """One field's levels and the words a reason uses for each."""

    name: str
    levels: tuple[Level, ...]
    priors: dict[str, tuple[float, float]]
    tf_columns: dict[str, str]
    words: dict[str, str]
    fixed: frozenset[str] = frozenset()  # levels whose m and u are domain rules, not learnt


def _equality(name: str, column: str, word: str) -> Comparison:
    return Comparison(
        name=name,
        levels=(
            ("null", f"{column}_l IS NULL OR {column}_r IS NULL"),
            ("same", f"{column}_l = {column}_r"),
            ("diff", None),
        ),
        priors={"same": (0.97, 0.01), "diff": (0.03, 0.99)},
        tf_columns={},
        words={"same": word},
    )


PLAIN: tuple[Comparison, ...] = (
    Comparison(
        name="id",
        levels=(
            ("null", "id_any_l IS NULL OR id_any_r IS NULL"),
            ("same", "id_any_l = id_any_r"),
            ("valid_diff", "id_valid_l IS NOT NULL AND id_valid_r IS NOT NULL"),
            ("near", "levenshtein(id_any_l, id_any_r) <= 1"),
            ("two", "levenshtein(id_any_l, id_any_r) <= 2"),
            ("diff", None),
        ),
        priors={
            "same": (0.01, 1e-7),
            "valid_diff": (0.0005, 0.95),
            "near": (0.04, 1e-6),
            "two": (0.01, 1e-5),
            "diff": (0.002, 0.05),
        },
        tf_columns={},
        words={
            "same": "身份证号一致（校验位有误）",
            "near": "身份证号一位之差",
            "two": "身份证号两位不同（或相邻两位颠倒）",
            "valid_diff": "两个不同的有效身份证号",
            "null": "一方身份证号缺失",
            "diff": "身份证号不同",
        },
        # EM would learn that namesakes with two valid numbers "match": they agree on all else.
        fixed=frozenset({"valid_diff"}),
    ),
    Comparison(
        name="name",
        levels=(
            ("null", "name_norm_l IS NULL OR name_norm_r IS NULL"),
            ("same", "name_norm_l = name_norm_r"),
            ("key", "name_key_l = name_key_r"),
            (
                "wild",
                "(contains(name_norm_l, '?') OR contains(name_norm_r, '?'))"
                " AND length(name_norm_l) = length(name_norm_r)"
                " AND (name_norm_l LIKE replace(name_norm_r, '?', '_')"
                " OR name_norm_r LIKE replace(name_norm_l, '?', '_'))",
            ),
            ("diff", None),
        ),
        priors={"same": (0.9, 1e-4), "key": (0.06, 1e-4), "wild": (0.02, 1e-4), "diff": (0.02, 0.999)},
        tf_columns={"same": "name_norm", "key": "name_key"},
        words={"same": "姓名", "key": "姓名同音（繁简或写法不同）", "wild": "姓名有生僻字替代符"},
    ),
    _equality("birth", "birth", "出生日期"),
    _equality("gender", "gender", "性别"),
    _equality("phone", "phone", "手机号"),
)

PLAIN_BLOCKS = (
    ("birth", "name_key"),
    ("substr(id_any, 1, 14)",),
    ("name_key", "substr(id_any, 15, 4)"),
    ("phone", "birth"),
)


def _dice(column: str) -> str:
    return (
        f"(2.0 * bit_count(CAST({column}_l AS BIT) & CAST({column}_r AS BIT)) "
        f"/ greatest(bit_count(CAST({column}_l AS BIT)) + bit_count(CAST({column}_r AS BIT)), 1))"
    )


PRIVATE: tuple[Comparison, ...] = (
    Comparison(
        name="id",
        levels=(
            ("null", "id_bloom_l IS NULL OR id_bloom_r IS NULL"),
            ("valid_diff", "id_hmac_l IS NOT NULL AND id_hmac_r IS NOT NULL"),
            ("near", f"{_dice('id_bloom')} >= 0.90"),
            ("two", f"{_dice('id_bloom')} >= 0.80"),
            ("diff", None),
        ),
        priors=PLAIN[0].priors,
        tf_columns={},
        words=PLAIN[0].words,
        fixed=PLAIN[0].fixed,
    ),
    Comparison(
        name="name",
        levels=(
            ("null", "name_key_l IS NULL OR name_key_r IS NULL"),
            ("same", "name_key_l = name_key_r"),
            ("wild", f"{_dice('name_bloom')} >= 0.8"),
            ("diff", None),
        ),
        priors={"same": (0.95, 1e-4), "wild": (0.03, 1e-3), "diff": (0.02, 0.999)},
        tf_columns={"same": "name_key"},
        words={"same": "姓名", "wild": "姓名近似"},
    ),
    _equality("birth", "birth_key", "出生日期"),
    _equality("gender", "gender_key", "性别"),
    _equality("phone", "phone_key", "手机号"),
)

PRIVATE_BLOCKS = (
    ("birth_key", "name_key"),
    ("phone_key", "birth_key"),
    ("phone_key", "name_key"),
)


def settings(comparisons: tuple[Comparison, ...], blocks: tuple[tuple[str, ...], ...], prior: float) -> Any:
    """Splink settings for linking the unmatched left records to the unmatched right records."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    built: list[Any] = []
    for comparison in comparisons:
        levels: list[Any] = []
        for label, condition in comparison.levels:
            level: Any = (
                cll.ElseLevel()
                if condition is None
                else cll.CustomLevel(condition, label_for_charts=label, base_dialect_str="duckdb")
            )
            options: dict[str, Any] = {"label_for_charts": label}
            if label == "null":
                options["is_null_level"] = True
            if label in comparison.priors:
                options["m_probability"], options["u_probability"] = comparison.priors[label]
            if label in comparison.fixed:
                options["fix_m_probability"] = options["fix_u_probability"] = True
            if label in comparison.tf_columns:
                options["tf_adjustment_column"] = comparison.tf_columns[label]
                options["tf_adjustment_weight"] = 1.0
            levels.append(level.configure(**options))
        built.append(cl.CustomComparison(levels, output_column_name=comparison.name))
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        comparisons=built,
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in blocks],
        probability_two_random_records_match=prior,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
    )


def level_labels(comparison: Comparison) -> dict[int, str]:
    """Splink's gamma value of each level (the else level is 0, the null level -1) to its label."""
    labels = [label for label, _ in comparison.levels if label != "null"]
    return {len(labels) - 1 - i: label for i, label in enumerate(labels)} | {-1: "null"}


def reason_sql(comparisons: tuple[Comparison, ...]) -> str:
    """SQL (over ``gamma_*`` columns) giving a pair's reason in words a clerk understands."""
    by_name = {c.name: c for c in comparisons}
    ident = by_name["id"]
    labels = level_labels(ident)
    id_words = " ".join(
        f"WHEN {gamma} THEN '{ident.words[label]}'" for gamma, label in labels.items() if label in ident.words
    )
    agreeing = []
    for comparison in comparisons[1:]:
        same = [g for g, label in level_labels(comparison).items() if label == "same"]
        agreeing.append(
            f"CASE WHEN gamma_{comparison.name} = {same[0]} THEN '{comparison.words['same']}' END"
        )
    notes = []
    for label, words in by_name["name"].words.items():
        if label != "same":
            gamma = next(g for g, lab in level_labels(by_name["name"]).items() if lab == label)
            notes.append(f"WHEN gamma_name = {gamma} THEN '{words}'")
    return (
        f"concat_ws('，', CASE gamma_id {id_words} END, "
        f"nullif(concat_ws('、', {', '.join(agreeing)}) || '一致', '一致'), "
        f"CASE {' '.join(notes)} END)"
    )
