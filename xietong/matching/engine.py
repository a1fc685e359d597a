"""The comparison passes: exact on valid ID numbers, then the probabilistic pass (Splink,
Fellegi–Sunter with blocking, term frequencies and EM) on what is left, then one-to-one resolution.

Reading and normalising always run in DuckDB in-process; the exact and probabilistic passes run on
the chosen engine (``duckdb`` by default, ``spark`` through Splink's Spark backend) with the same
SQL and the same Splink model (``model.py``). Pairs at or above ``threshold`` are matches; pairs in
the band below it go to clerical review instead of being guessed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import backends, duck, model, normalize, private, roster


@dataclass
class MatchOptions:
    """How to compare: threshold for matches, the lower edge of the review band, the engine."""

    threshold: float = 0.99
    review_floor: float = 0.5
    one_to_one: bool = True
    private: bool = False  # inputs are private-mode encodings (``xietong match-encode``)
    engine: str = "duckdb"
    train: bool = True  # estimate u (random sampling) and m (EM); False keeps the model's priors


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
    row = con.execute(sql).fetchall()[0]
    assert row is not None
    return row[0]


@dataclass(frozen=True)
class Mode:
    """What the passes compare: plain normalised values, or private-mode keyed encodings."""

    exact: str
    comparisons: tuple[model.Comparison, ...]
    blocks: tuple[tuple[str, ...], ...]
    training_blocks: tuple[tuple[str, ...], ...]


PLAIN = Mode("id_valid", model.PLAIN, model.PLAIN_BLOCKS, (("birth", "name_key"), ("phone",)))
PRIVATE = Mode("id_hmac", model.PRIVATE, model.PRIVATE_BLOCKS, (("birth_key", "name_key"), ("phone_key",)))


def run(
    left: Path | list[Path],
    right: Path | list[Path],
    *,
    mapping_left: dict[str, str],
    mapping_right: dict[str, str],
    options: MatchOptions,
    progress: Callable[[str], None] = lambda _stage: None,
) -> tuple[Any, Any, MatchSummary]:
    """Compare two rosters. Returns (pairs, review) as Arrow tables and the summary. In private mode
    a side may be several encoded files (one roster kept in parts: a node's current rosters)."""
    summary = MatchSummary()
    con = duck.connect()
    with roster.make_workdir() as workdir:
        clock = time.perf_counter()
        if options.private:
            progress("读取加密编码")
            summary.rows["left"] = private.load_encoded(con, left, "l")
            summary.rows["right"] = private.load_encoded(con, right, "r")
            summary.seconds["读取"] = time.perf_counter() - clock
            mode = PRIVATE
        else:
            if not isinstance(left, Path) or not isinstance(right, Path):
                raise TypeError("plain mode compares one roster file with another")
            progress("读取名册")
            summary.rows["left"] = roster.load(con, left, "raw_l", mapping_left, Path(workdir))
            summary.rows["right"] = roster.load(con, right, "raw_r", mapping_right, Path(workdir))
            summary.seconds["读取"] = time.perf_counter() - clock
            clock = time.perf_counter()
            progress("规范化")
            normalize.normalize_tables(con, [("raw_l", "l"), ("raw_r", "r")])
            for side, table, raw in (("left", "l", "raw_l"), ("right", "r", "raw_r")):
                summary.invalid[side] = _invalid_counts(con, table, raw)
            summary.seconds["规范化"] = time.perf_counter() - clock
            mode = PLAIN

        backend = backends.open_backend(options.engine, con, Path(workdir), private=options.private)
        try:
            clock = time.perf_counter()
            progress("精确比对（身份证号）")
            backend.exact(mode.exact)
            summary.pairs_by_pass["exact"] = _scalar(con, "SELECT count(*) FROM exact")
            summary.seconds["精确比对"] = time.perf_counter() - clock

            clock = time.perf_counter()
            progress("概率比对（其余记录）")
            _scored_pass(con, backend, options, mode, progress)
            summary.pairs_by_pass["scored"] = _scalar(
                con, f"SELECT count(*) FROM scored WHERE score >= {options.threshold}"
            )
            summary.seconds["概率比对"] = time.perf_counter() - clock
        finally:
            backend.close()

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
    ).fetchall()[0]
    return {"身份证号无效": row[0], "身份证号为空": row[1], "出生日期无法识别": row[2], "姓名为空": row[3]}


def _scored_pass(
    con: Any, backend: backends.Backend, options: MatchOptions, mode: Mode, progress: Callable[[str], None]
) -> None:
    """Link what the exact pass left with Splink; keep pairs above the review floor as ``scored``."""
    from splink import Linker, block_on

    con.execute(
        """
        CREATE TABLE lu AS SELECT * FROM l WHERE record_id NOT IN (SELECT left_id FROM exact);
        CREATE TABLE ru AS SELECT * FROM r WHERE record_id NOT IN (SELECT right_id FROM exact);
        """
    )
    _drop(con, "l", "r")  # from here on only the unmatched rows are needed: not held twice
    left_n, right_n = _scalar(con, "SELECT count(*) FROM lu"), _scalar(con, "SELECT count(*) FROM ru")
    empty = "SELECT NULL::VARCHAR AS left_id, NULL::VARCHAR AS right_id, NULL::DOUBLE AS score, "
    if not left_n or not right_n:
        con.execute(f"CREATE TABLE scored AS {empty} NULL::VARCHAR AS reason, 'scored' AS pass LIMIT 0")
        return
    # Prior: at most the smaller unmatched roster can match, among all left×right pairs.
    prior = min(0.5, max(min(left_n, right_n) / (left_n * right_n), 1e-12))
    api = backend.splink_api()
    linker = Linker(
        [backend.register(api, "lu", "a_left"), backend.register(api, "ru", "b_right")],
        model.settings(mode.comparisons, mode.blocks, prior),
        log_level=logging.WARNING,
    )
    if options.train and min(left_n, right_n) >= MIN_ROWS_TO_TRAIN:
        progress("概率比对：估计参数（随机抽样u，EM估计m）")
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=2026)
        for rule in mode.training_blocks:
            if not _pairs_agree(con, rule):
                # No pair left agrees on the rule's fields (e.g. every shared person matched exactly):
                # nothing to learn from (Splink would refuse), the m-probabilities keep their priors.
                continue
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), estimate_without_term_frequencies=True
            )
    progress("概率比对：打分")
    predictions = linker.inference.predict(threshold_match_probability=options.review_floor)
    backend.to_duckdb(predictions, "predictions")
    con.execute(
        f"""
        CREATE TABLE scored AS
        SELECT record_id_l AS left_id, record_id_r AS right_id, match_probability AS score,
               {model.reason_sql(mode.comparisons)} AS reason, 'scored' AS pass
        FROM predictions
        """
    )


def _drop(con: Any, *names: str) -> None:
    """Drop tables or views (private mode reads the encoded files through views)."""
    kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    for name in names:
        con.execute(f"DROP {'VIEW' if kinds.get(name) == 'VIEW' else 'TABLE'} IF EXISTS {name}")


def _pairs_agree(con: Any, fields: tuple[str, ...]) -> bool:
    """Whether any record left of ``lu`` agrees with one of ``ru`` on every field of a training rule."""
    on = " AND ".join(f'l."{field}" = r."{field}"' for field in fields)
    return bool(_scalar(con, f"SELECT count(*) FROM (SELECT 1 FROM lu l JOIN ru r ON {on} LIMIT 1)"))


# EM and random sampling need enough records to say anything; smaller runs keep the priors.
MIN_ROWS_TO_TRAIN = 1000


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
