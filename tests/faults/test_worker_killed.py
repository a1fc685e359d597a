"""A task worker killed (``kill -9``) in the middle of a member import, on a real node: the job is
failed with the reason by the next worker, nothing of the import is left in the database, and the
same roll imported again completes (issue 15 §5)."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xietong.exchange.localnodes import LocalNode, region_group, wait_for
from xietong.lib import idnumber

pytestmark = pytest.mark.nodes

ROWS = 20_000

START = """
from django.core.files.uploadedfile import SimpleUploadedFile
from xietong.core.models import Organization, Region, User
from xietong.membership.actions import member_import_start
org, _ = Organization.objects.get_or_create(code="u-fault", defaults=dict(name="某公司工会",
    kind="grassroots_union", region=Region.objects.get(code="110105")))
clerk, _ = User.objects.get_or_create(username="clerk")
with open({path!r}, "rb") as roll:
    job = member_import_start(organization=org, uploaded=SimpleUploadedFile("roll.csv", roll.read()),
        acting_user=clerk)
print(job.pk)
"""


def write_roll(path: Path, rows: int) -> None:
    """``rows`` valid members with distinct ID numbers (the import template's columns)."""
    with path.open("w", encoding="utf-8") as out:
        out.write("姓名,身份证号码,性别,出生日期,手机号码,工作单位,入会日期\n")
        for i in range(rows):
            birth = dt.date(1970, 1, 1) + dt.timedelta(days=i // 1000)
            body = f"110105{birth:%Y%m%d}{i % 1000:03d}"
            out.write(f"职工{i},{body + idnumber.check_digit(body)},,,139{i:08d},,2026-01-05\n")


@pytest.fixture
def node(tmp_path: Path) -> LocalNode:
    (bj,) = region_group(tmp_path, ids=("bj",))
    return bj


def worker(node: LocalNode, log: Path) -> subprocess.Popen[bytes]:
    """A task worker of ``node``, as ``xietong serve`` or the service manager starts it."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "xietong.cli", "db_worker", "--interval", "0.2", "--no-startup-delay",
             "--no-reload"],
            env=node.env(), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def job(node: LocalNode, pk: int) -> tuple[str, str]:
    status, message = node.query("SELECT status, message FROM membership_memberimport WHERE id = ?", (pk,))[0]
    return str(status), str(message)


def test_a_worker_killed_mid_import_leaves_nothing_and_the_import_can_run_again(
    node: LocalNode, tmp_path: Path
) -> None:
    roll = tmp_path / "roll.csv"
    write_roll(roll, ROWS)
    log = tmp_path / "worker.log"
    first = worker(node, log)
    try:
        pk = int(node.shell(START.format(path=str(roll))))
        # Kill it while it writes: the one transaction that stores people and members is open.
        wait_for(lambda: job(node, pk)[1].startswith("校验完成"), seconds=40, every=0.02)
        time.sleep(0.1)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert job(node, pk)[0] == "running"  # nobody left to say otherwise
    assert node.query("SELECT count(*) FROM membership_member")[0][0] == 0
    assert node.query("SELECT count(*) FROM core_person")[0][0] == 0

    second = worker(node, log)
    try:
        status, message = wait_for(lambda: job(node, pk)[0] == "failed" and job(node, pk), seconds=20)
        assert message == "后台进程中断，导入未完成，未写入任何数据，可重新开始"
        assert node.query("SELECT status FROM django_tasks_database_dbtaskresult")[0][0] == "FAILED"
        assert node.query("SELECT count(*) FROM membership_member")[0][0] == 0

        again = int(node.shell(START.format(path=str(roll))))
        status, message = wait_for(
            lambda: job(node, again)[0] in ("done", "failed") and job(node, again), seconds=50
        )
        assert (status, message) == ("done", f"导入完成：新增{ROWS}名会员，更新0名，0名无变化")
        assert node.query("SELECT count(*) FROM membership_member")[0][0] == ROWS
    finally:
        second.terminate()
        second.wait(timeout=15)
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
