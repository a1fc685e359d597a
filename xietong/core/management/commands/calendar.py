"""``xietong calendar``: enter a year's official holidays and make-up working days from the State
Council's notice (``set``, or ``import`` a small TOML/CSV file), and ``show`` what the node counts with.
The entered year wins over the packaged calendar; every entry is audited."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xietong.core import actions, selectors
from xietong.lib import workdays

SOURCE_LABELS = {"entered": "已录入", "packaged": "软件包内置", "weekends": "未录入：暂按周末计算"}
HOLIDAY_WORDS = {"放假", "休", "holiday"}
WORKDAY_WORDS = {"上班", "班", "workday"}


class Command(BaseCommand):
    help = (
        "工作日历：set 录入某年法定节假日和调休上班日（国务院办公厅通知），import 从 TOML/CSV 文件录入，"
        "show 显示各年日历来源；录入的年份优先于软件包内置日历，操作留痕"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        put = sub.add_parser("set", help="录入某年的放假日期和调休上班日期")
        put.add_argument("year", type=int)
        put.add_argument(
            "--holidays", required=True, help="放假日期，逗号分隔，可写区间 2027-02-05..2027-02-11"
        )
        put.add_argument("--workdays", default="", help="调休上班日期（周六或周日），逗号分隔")
        put.add_argument("--source", default="", help="依据，如 国务院办公厅关于2027年部分节假日安排的通知")
        load = sub.add_parser(
            "import", help="从 TOML（year, source, holidays, workdays）或 CSV（日期,类型）文件录入"
        )
        load.add_argument("file")
        load.add_argument("--source", default="", help="依据（CSV 文件用；TOML 文件写在 source 中）")
        sub.add_parser("show", help="显示上一年、今年、明年和已录入年份的日历来源")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        try:
            getattr(self, f"_{subcommand}")(**options)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None

    def _enter(self, year: int, holidays: list[Any], workdays_: list[Any], source: str) -> None:
        entry = actions.calendar_year_set(
            year=year, holidays=holidays, workdays=workdays_, source=source, acting_user=None
        )
        self.stdout.write(
            f"{entry.year} 年工作日历已录入：放假 {len(entry.holidays)} 天，调休上班 {len(entry.workdays)} 天"
        )

    def _set(self, year: int, holidays: str, workdays: str, source: str, **_options: Any) -> None:
        self._enter(year, _days(holidays), _days(workdays), source)

    def _import(self, file: str, source: str, **_options: Any) -> None:
        path = Path(file)
        try:
            if path.suffix.lower() == ".toml":
                data = tomllib.loads(path.read_text(encoding="utf-8"))
                holidays = _days(",".join(data.get("holidays", [])))
                workdays_ = _days(",".join(data.get("workdays", [])))
                self._enter(int(data["year"]), holidays, workdays_, str(data.get("source", source)))
                return
            holidays, workdays_ = [], []
            with path.open(encoding="utf-8-sig", newline="") as handle:
                for line, row in enumerate(csv.reader(handle), start=1):
                    if not row or row[0].strip() in {"日期", "date"}:
                        continue
                    kind = row[1].strip() if len(row) > 1 else ""
                    if kind not in HOLIDAY_WORDS | WORKDAY_WORDS:
                        raise CommandError(f"第{line}行：类型应为“放假”或“上班”，实为“{kind}”")
                    (holidays if kind in HOLIDAY_WORDS else workdays_).extend(_days(row[0]))
        except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
            raise CommandError(f"无法读取 {path}：{exc}") from None
        if not holidays:
            raise CommandError(f"{path} 中没有放假日期")
        self._enter(holidays[0].year, holidays, workdays_, source)

    def _show(self, **_options: Any) -> None:
        for row in selectors.calendar_years():
            note = f"（{row.entry.source}）" if row.entry and row.entry.source else ""
            self.stdout.write(f"{row.year}  {SOURCE_LABELS[row.source]}{note}")
        missing = selectors.calendar_missing_next_year()
        if missing:
            self.stdout.write(f"提醒：{missing} 年的节假日安排尚未录入，届时的办理时限将暂按周末计算")


def _days(text: str) -> list[Any]:
    try:
        return workdays.parse_days(text)
    except ValueError as exc:
        raise CommandError(f"无法识别的日期：{exc}") from None
