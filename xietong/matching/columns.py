"""The standard roster columns and each region's own names for them (a TOML mapping file).

A mapping file looks like::

    [columns]
    record_id = "人员编号"
    name = "姓名"
    id_number = "公民身份号码"

Without a mapping, common Chinese headers are recognised (姓名, 身份证号码, 身份证号, 证件号码 …).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import RosterError

STANDARD_COLUMNS = (
    "record_id", "name", "id_number", "birth_date", "gender", "phone", "region_code", "event_date",
)  # fmt: skip
REQUIRED_COLUMNS = ("record_id",)
IDENTIFYING_COLUMNS = ("name", "id_number", "birth_date")

# Headers seen in provincial systems, per standard column.
KNOWN_HEADERS: dict[str, tuple[str, ...]] = {
    "record_id": ("record_id", "记录号", "人员编号", "个人编号", "序号", "编号", "id"),
    "name": ("name", "姓名", "名字", "人员姓名"),
    "id_number": (
        "id_number",
        "身份证号码",
        "身份证号",
        "公民身份号码",
        "证件号码",
        "社会保障号码",
        "身份证",
    ),
    "birth_date": ("birth_date", "出生日期", "出生年月日", "生日"),
    "gender": ("gender", "性别", "sex"),
    "phone": ("phone", "手机号码", "手机号", "联系电话", "电话"),
    "region_code": ("region_code", "行政区划代码", "地区代码", "参保地", "区划代码"),
    # The date a benefit roster is about: death (死亡登记) or the start of payment (待遇名册).
    "event_date": ("event_date", "死亡日期", "待遇起始日期", "待遇开始日期", "领取起始日期", "享受起始日期"),
}


def load_mapping(path: Path | None) -> dict[str, str]:
    """Read ``[columns]`` from a TOML mapping file: standard name → the roster's header."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RosterError(path, f"列映射文件无法读取：{exc}") from exc
    columns = data.get("columns")
    if not isinstance(columns, dict):
        raise RosterError(path, "列映射文件应有 [columns] 一节")
    unknown = unknown_columns(columns)
    if unknown:
        raise RosterError(
            path, f"列映射文件中的{'、'.join(unknown)}不是标准列（应为{'、'.join(STANDARD_COLUMNS)}）"
        )
    return {str(key): str(value) for key, value in columns.items()}


def unknown_columns(mapping: dict[str, str]) -> list[str]:
    """The keys of a mapping that are not standard columns (sorted), to name them in an error."""
    return sorted(set(mapping) - set(STANDARD_COLUMNS))


def resolve_columns(path: Path, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Decide which roster header feeds each standard column; explain what is missing in Chinese."""
    cleaned = {header.strip().lstrip("\ufeff"): header for header in headers}
    resolved: dict[str, str] = {}
    for column in STANDARD_COLUMNS:
        if column in mapping:
            wanted = mapping[column]
            if wanted not in cleaned:
                raise RosterError(path, f"列映射指定的列“{wanted}”（{column}）不在表头中", line=1)
            resolved[column] = cleaned[wanted]
            continue
        for candidate in KNOWN_HEADERS[column]:
            match = next((h for h in cleaned if h.lower() == candidate.lower()), None)
            if match is not None:
                resolved[column] = cleaned[match]
                break
    if "record_id" not in resolved:
        raise RosterError(
            path,
            f"找不到记录号列（表头为：{'、'.join(cleaned) or '空'}）；请用 --columns 指定列映射",
            line=1,
        )
    if not any(column in resolved for column in IDENTIFYING_COLUMNS):
        raise RosterError(
            path, "表头中没有姓名、身份证号码或出生日期列，无法比对；请用 --columns 指定列映射", line=1
        )
    return resolved
