"""Backup and restore (issue 15 §2): ``xietong backup``/``restore`` and ``keys export``/``import``.

The main test does what an operator does, with real ``xietong`` processes: build a demo node, back it
up, export its keys, lose the machine, import the keys on a new one, restore, and check that the audit
log and the message log verify, that a card printed before the backup is accepted and that an ID
number finds its member. On PostgreSQL (``scripts/with-postgres.sh`` exports ``DATABASE_URL``) the
node runs on its own database of that server; on SQLite in its own folder.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from xietong.core import backup
from xietong.exchange.localnodes import LocalNode, free_port
from xietong.lib import crypto, sealed

# --- keys export/import, in process ----------------------------------------------------------------


@pytest.fixture
def node_dirs(settings: Any, tmp_path: Path) -> Path:
    """This test's node data folder, with a key folder of its own."""
    point_at(settings, tmp_path / "var")
    keys = tmp_path / "var" / "keys"
    keys.mkdir(parents=True)
    for name in ("pii.key", "node-signing.key", "group-match.key", "pii-k2.key"):  # a rotated PII key too
        (keys / name).write_text(crypto.generate_key() + "\n")
    return tmp_path


def point_at(settings: Any, var: Path) -> None:
    settings.VAR_DIR = var
    settings.KEY_DIR = var / "keys"
    settings.MEDIA_ROOT = var / "media"
    settings.XIETONG_PII_KEY_FILE = var / "keys" / "pii.key"
    settings.XIETONG_NODE_SIGNING_KEY_FILE = var / "keys" / "node-signing.key"
    settings.XIETONG_GROUP_KEY_FILE = var / "keys" / "group-match.key"


def test_secret_settings_stay_out_of_archives() -> None:
    for name in ("XIETONG_PII_KEY", "XIETONG_SECRET_KEY", "DATABASE_URL", "XIETONG_SMS_KEY", "SMTP_PASSWORD"):
        assert backup.is_secret_setting(name), name
    for name in (
        "XIETONG_NODE_ID",
        "XIETONG_HUB_PUBLIC_KEY",
        "XIETONG_GROUP_KEY_FILE",
        "XIETONG_REGION_CODE",
    ):
        assert not backup.is_secret_setting(name), name


def test_restore_refuses_an_archive_that_does_not_fit_this_node(node_dirs: Path, settings: Any) -> None:
    """Another database kind, a newer program, another node's id, other keys: each said, with what to do."""
    settings.XIETONG_PII_KEY = settings.XIETONG_NODE_SIGNING_KEY = settings.XIETONG_GROUP_KEY = ""
    (node_dirs / "var" / "node.env").write_text("XIETONG_NODE_ID=bj\n")
    settings.XIETONG_NODE_ID = "bj"
    engine = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
    checks = backup.key_checks()
    assert all(checks.values())
    fits: dict[str, Any] = {
        "database": {"engine": engine},
        "migrations": [["core", "0001_initial"]],
        "node": {"node_id": "bj"},
        "keys": checks,
    }
    assert backup._compatibility_problems(fits) == []
    misfit: dict[str, Any] = {
        "database": {"engine": "sqlite" if engine == "postgresql" else "postgresql"},
        "migrations": [["core", "0001_initial"], ["core", "9999_from_the_future"]],
        "node": {"node_id": "tj"},
        "keys": {**checks, "pii_key": "0123456789abcdef"},
    }
    problems = "；".join(backup._compatibility_problems(misfit))
    assert "数据库类型" in problems
    assert "core.9999_from_the_future" in problems and "请先升级程序" in problems
    assert "本节点编号为 bj，备份来自节点 tj" in problems
    assert "个人信息加密密钥与备份时不同" in problems and "keys import" in problems


def test_keys_are_not_exported_into_the_node_data_folder(node_dirs: Path) -> None:
    for target in (node_dirs / "var" / "keys-copy", node_dirs / "var" / "keys" / "copy"):
        with pytest.raises(CommandError, match="密钥不能导出到"):
            call_command("keys", "export", "--to", str(target))
        assert not target.exists()


def test_keys_export_every_key_owner_only_and_import_puts_them_back(
    node_dirs: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIETONG_SMS_KEY", "sms-bearer-key")  # keys given by environment
    pii_from_env = crypto.generate_key()
    monkeypatch.setenv("XIETONG_PII_KEY", pii_from_env)  # wins over var/keys/pii.key
    out = node_dirs / "offline" / "keys"
    out.parent.mkdir()
    (out.parent / "bj.xtbackup").write_bytes(sealed.MAGIC + b"an archive")
    said = io.StringIO()
    call_command("keys", "export", "--to", str(out), stdout=said)
    assert "警告" in said.getvalue() and "bj.xtbackup" in said.getvalue(), "keys beside an archive"
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "env/XIETONG_PII_KEY", "env/XIETONG_SMS_KEY", "keys.json", "keys/group-match.key",
        "keys/node-signing.key", "keys/pii-k2.key", "keys/pii.key",
    ]  # fmt: skip
    assert all(stat.S_IMODE((out / name).stat().st_mode) == 0o600 for name in files)

    original = node_dirs / "var" / "keys"
    point_at(settings, node_dirs / "new")  # another machine, its keys not in the environment
    monkeypatch.delenv("XIETONG_SMS_KEY")
    monkeypatch.delenv("XIETONG_PII_KEY")
    said = io.StringIO()
    call_command("keys", "import", "--from", str(out), stdout=said)
    for path in original.iterdir():
        copy = node_dirs / "new" / "keys" / path.name
        if path.name != "pii.key":
            assert copy.read_bytes() == path.read_bytes()
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    # The PII key in effect was the environment's: it is the one the new node gets.
    assert (node_dirs / "new" / "keys" / "pii.key").read_text().strip() == pii_from_env
    assert "请在本节点的环境中设置 XIETONG_SMS_KEY" in said.getvalue()
    call_command("keys", "import", "--from", str(out))  # again: nothing to do

    (node_dirs / "new" / "keys" / "pii-k2.key").unlink()
    (node_dirs / "new" / "keys" / "pii.key").write_text(crypto.generate_key() + "\n")
    with pytest.raises(CommandError, match="本节点已有不同的密钥"):
        call_command("keys", "import", "--from", str(out))
    assert not (node_dirs / "new" / "keys" / "pii-k2.key").exists(), "nothing imported when one key differs"


# --- the operator's round trip, as real processes ------------------------------------------------

BUILD = "from xietong.demo import world; world.build(people_per_org=1, node='bj')"

BEFORE = """
import json
from django.conf import settings
from xietong import exchange
from xietong.core import pii
from xietong.membership import cardtokens
from xietong.membership.choices import CardStatus, MemberStatus
from xietong.membership.models import MemberCard
card = (MemberCard.objects.filter(status=CardStatus.ACTIVE, member__status=MemberStatus.ACTIVE)
        .select_related("member__person").order_by("pk").first())
exchange.send(to="tj", kind="backup.check", body={"n": 1}, idempotency_key="backup-check")
print(json.dumps({
    "credential": cardtokens.issue_physical(
        card_number=card.number, node=settings.XIETONG_NODE_ID, private_key=pii.node_signing_key()),
    "card": card.number,
    "member": card.member.pk,
    "id_number": pii.decrypt(card.member.person.id_number_cipher, field="id_number"),
}))
"""

AFTER = """
import json
from xietong.core.models import User
from xietong.membership.actions.cards import card_verify
from xietong.membership.models import Member, ServicePoint
from xietong.membership.selectors import member_search
facts = json.loads({facts!r})
point = next(p for p in ServicePoint.objects.order_by("pk") if p.benefits)
verified = card_verify(token=facts["credential"], service_point=point, benefit=point.benefits[0],
                       acting_user=User.objects.order_by("pk").first())
found = list(member_search(Member.objects.all(), facts["id_number"]).values_list("pk", flat=True))
print(json.dumps({{"card": verified.card.number, "found": found}}))
"""


@pytest.fixture
def database_env() -> Iterator[dict[str, str]]:
    """The node's database: on PostgreSQL a fresh database of the test server (dropped afterwards);
    on SQLite nothing to set (the node's folder holds it)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield {}
        return
    name = f"xietong_backup_{uuid.uuid4().hex[:8]}"
    pg_admin(url, f"CREATE DATABASE {name}")
    try:
        yield {"DATABASE_URL": url.rsplit("/", 1)[0] + "/" + name}
    finally:
        pg_admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pg_admin(url: str, statement: str) -> Any:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if statement.startswith("SELECT") else None


def destroy(node: LocalNode) -> None:
    """Lose the node: its folder (database, uploads, exchange files, keys) and, on PostgreSQL, its
    database (dropped and created empty again)."""
    import shutil

    shutil.rmtree(node.var_dir)
    url = node.extra_env.get("DATABASE_URL")
    if url:
        admin, name = os.environ["DATABASE_URL"], url.rsplit("/", 1)[1]
        pg_admin(admin, f"DROP DATABASE {name} WITH (FORCE)")
        pg_admin(admin, f"CREATE DATABASE {name}")


def tables(node: LocalNode) -> int:
    url = node.extra_env.get("DATABASE_URL")
    if url:
        rows = pg_admin(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        return int(rows[0][0])
    return int((node.var_dir / "xietong.sqlite3").exists())


def xietong(node: LocalNode, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``xietong ARGS`` as the node; a failure shows what the command said."""
    result = node.run(*args, check=False)
    assert not check or result.returncode == 0, f"xietong {args[0]}: {result.stdout}{result.stderr}"
    return result


def listing(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_backup_lose_the_node_import_keys_restore_and_everything_verifies(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    node = LocalNode("bj", "北京节点", "110000", free_port(), tmp_path / "bj", extra_env=database_env)
    node.init(None)
    xietong(node, "migrate")  # and the demo world (``xietong demo`` without collectstatic and serve)
    xietong(node, "shell", "--no-imports", "-c", BUILD)
    peer_key = crypto.generate_signing_key()[0]
    peer = {"node_id": "tj", "name": "天津节点", "region_code": "120000",
            "endpoint": "http://127.0.0.1:9", "public_key": crypto.public_key_of(peer_key)}  # fmt: skip
    (tmp_path / "tj.json").write_text(json.dumps(peer, ensure_ascii=False))
    xietong(node, "exchange", "register", str(tmp_path / "tj.json"))
    facts = json.loads(xietong(node, "shell", "--no-imports", "-c", BEFORE).stdout.splitlines()[-1])
    uploads = {"rosters/2026-01.xlsx": b"roster bytes", "attachments/a b/scan.pdf": b"%PDF-1.4 scan"}
    blobs = {"ab/abcdef0123": b"exchange blob"}
    for folder, files in ((node.var_dir / "media", uploads), (node.var_dir / "exchange" / "blobs", blobs)):
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)

    archive = tmp_path / "backups" / "bj.xtbackup"
    done = xietong(node, "backup", "--to", str(archive))
    # Every file under media (the demo's own, e.g. rosters' stored encodings, and the two above).
    media = sum(1 for path in (node.var_dir / "media").rglob("*") if path.is_file())
    assert "已生成备份密钥" in done.stdout and f"{media} 个上传文件、1 个交换文件" in done.stdout
    keys_out = tmp_path / "offline" / "keys"
    xietong(node, "keys", "export", "--to", str(keys_out))
    secrets = [p.read_text().strip() for p in (node.var_dir / "keys").iterdir()]
    assert len(secrets) == 4  # PII, signing, group, backup key

    destroy(node)
    node.var_dir = tmp_path / "new-machine"
    backup_key = str(keys_out / "keys" / "backup.key")
    refused = xietong(node, "restore", "--from", str(archive), "--key-file", backup_key, check=False)
    assert "个人信息加密密钥缺失" in refused.stderr and "xietong keys import" in refused.stderr
    assert tables(node) == 0 and not (node.var_dir / "media").exists()
    xietong(node, "keys", "import", "--from", str(keys_out))
    wrong = tmp_path / "wrong.key"
    wrong.write_text(crypto.generate_key())
    before = listing(node.var_dir)
    refused = xietong(node, "restore", "--from", str(archive), "--key-file", str(wrong), check=False)
    assert refused.returncode != 0 and "备份密钥不正确或备份文件已损坏" in refused.stderr
    tampered = tmp_path / "tampered.xtbackup"
    changed = bytearray(archive.read_bytes())
    changed[len(changed) // 2] ^= 1
    tampered.write_bytes(bytes(changed))
    refused = xietong(node, "restore", "--from", str(tampered), check=False)
    assert refused.returncode != 0 and "备份密钥不正确或备份文件已损坏" in refused.stderr
    assert listing(node.var_dir) == before and tables(node) == 0, "a refused restore changes nothing"

    restored = xietong(node, "restore", "--from", str(archive))
    assert "已恢复节点 bj" in restored.stdout, restored.stdout
    assert "哈希链未断裂" in xietong(node, "audit", "verify").stdout
    verified = xietong(node, "exchange", "verify").stdout
    assert "已校验 1 条消息" in verified and "签名均有效" in verified
    after = json.loads(
        xietong(
            node, "shell", "--no-imports", "-c", AFTER.format(facts=json.dumps(facts))
        ).stdout.splitlines()[-1]
    )
    assert after == {"card": facts["card"], "found": [facts["member"]]}
    assert {k: v for k, v in listing(node.var_dir / "media").items() if k in uploads} == uploads
    assert listing(node.var_dir / "exchange" / "blobs") == blobs
    assert (node.var_dir / "node.env").read_text().count("XIETONG_NODE_ID=bj") == 1

    again = xietong(node, "restore", "--from", str(archive), check=False)
    assert again.returncode != 0 and "只能恢复到空节点" in again.stderr


def test_the_archive_holds_no_key(tmp_path: Path, database_env: dict[str, str]) -> None:
    """Open an archive with its backup key and look for every key of the node in it, and for a
    secret the operator put in node.env."""
    import tarfile

    node = LocalNode("bj", "北京节点", "110000", free_port(), tmp_path / "bj", extra_env=database_env)
    node.init(None)
    with (node.var_dir / "node.env").open("a") as env:  # an operator's secret beside the identity
        env.write("XIETONG_SMS_KEY=sms-secret-0123456789\n")
    xietong(node, "migrate")
    xietong(
        node, "shell", "--no-imports", "-c", "from xietong.core import pii; pii.master_key()"
    )  # the PII key file
    archive = tmp_path / "bj.xtbackup"
    xietong(node, "backup", "--to", str(archive))
    key = crypto.load_key((node.var_dir / "keys" / "backup.key").read_text())
    plain = io.BytesIO()
    with archive.open("rb") as handle:
        sealed.unseal(handle, plain, key)
    with tarfile.open(fileobj=io.BytesIO(plain.getvalue()), mode="r:gz") as tar:
        parts = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    assert {"manifest.json", "settings/node.env", "settings/node-entry.json"} <= set(parts)
    assert b"XIETONG_NODE_ID=bj" in parts["settings/node.env"]
    assert json.loads(parts["manifest.json"])["omitted_settings"] == ["XIETONG_SMS_KEY"]
    contents = b"".join(parts.values())
    assert b"sms-secret-0123456789" not in contents
    keys = list((node.var_dir / "keys").iterdir())
    assert {p.name for p in keys} == {"pii.key", "node-signing.key", "group-match.key", "backup.key"}
    for path in keys:
        text = path.read_text().strip()
        assert text.encode() not in contents, path.name
        assert crypto.load_key(text) not in contents, path.name  # nor its raw bytes
