"""The console commands: idnumber, regions."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from xietong.core.models import Region

from .factories import valid_id_number


def run_xietong(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xietong.cli", *args],
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "xietong.settings.test", "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_idnumber_command_describes_a_valid_number() -> None:
    number = valid_id_number(region="110104", birth=date(1975, 6, 18), sequence=13)
    result = run_xietong("idnumber", number[:6] + " " + number[6:].lower())
    assert result.returncode == 0, result.stderr
    assert number in result.stdout and "1975" in result.stdout and "宣武" in result.stdout


def test_idnumber_command_fails_with_a_chinese_reason() -> None:
    number = valid_id_number(sequence=1)
    wrong = number[:17] + ("3" if number[17] != "3" else "4")
    result = run_xietong("idnumber", wrong)
    assert result.returncode == 1
    assert f"第18位校验码应为{number[17]}，实为{wrong[17]}" in result.stderr


@pytest.mark.django_db
def test_regions_are_loaded_with_history() -> None:
    assert Region.objects.get(code="110101").full_name == "北京市东城区"
    assert Region.objects.get(code="110104").full_name == "北京市原宣武区"
    xuanwu = Region.objects.get(code="110104")
    assert xuanwu.abolished and xuanwu.valid_to == 2010
    for province in ("110000", "120000", "130000", "310000", "320000", "330000", "340000"):
        assert Region.objects.filter(code__startswith=province[:2], level="county").count() > 10
    assert Region.objects.get(code="131082").parent_id == "131000"  # 三河市 under 廊坊市
