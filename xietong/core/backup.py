"""Backup and restore of a node (``xietong backup``/``restore``), with its keys kept apart
(``xietong keys export``/``import``).

An archive is one sealed file (``xietong.lib.sealed``: AES-256-GCM in chunks, under the backup key)
holding a tar of: ``manifest.json``, the database (``database.pgdump`` from ``pg_dump -Fc``, or
``database.sqlite3`` from SQLite's online backup), ``media/`` (MEDIA_ROOT), ``blobs/`` (the
exchange's blob folder, when the node has one) and ``settings/`` (``node.env`` without secrets,
``node-entry.json``). The manifest names every part with its SHA-256, the node, the app version and
the applied migrations, and check values of the node's keys (never the keys: the PII key, the node
signing key and the group key are exported separately, to a place the operator names).

A restore decrypts and checks everything into a temporary folder first and only then replaces
anything, so a wrong key or a changed archive leaves the node as it was.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from xietong.lib import crypto, sealed

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_PART = "database.sqlite3"
PG_PART = "database.pgdump"
KEYS_MANIFEST = "keys.json"
BACKUP_KEY_NAME = "backup.key"
WRONG_KEY = gettext_noop("备份密钥不正确或备份文件已损坏")


class BackupError(Exception):
    """What stops a backup, restore or key export/import, in a Chinese sentence for the operator."""


# --- where things are -------------------------------------------------------------------------------


def key_dir() -> Path:
    return Path(settings.KEY_DIR)


def media_dir() -> Path:
    return Path(settings.MEDIA_ROOT)


def blob_dir() -> Path:
    """The exchange's blob folder (``XIETONG_EXCHANGE_BLOB_DIR``)."""
    return Path(settings.XIETONG_EXCHANGE_BLOB_DIR)


def default_backup_key_file() -> Path:
    return key_dir() / BACKUP_KEY_NAME


def is_secret_setting(name: str) -> bool:
    """Whether a setting's value is a secret that stays out of archives: keys (but not public keys),
    secrets, passwords, tokens, and the database URL (it may hold a password)."""
    upper = name.upper()
    if upper.endswith(("PUBLIC_KEY", "_FILE")):
        return False
    return upper == "DATABASE_URL" or any(word in upper for word in ("KEY", "SECRET", "PASSWORD", "TOKEN"))


def _write_private(path: Path, data: bytes) -> None:
    """Write ``path`` readable by its owner only (0600), through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


# --- keys ----------------------------------------------------------------------------------------------


def load_backup_key(path: Path | None, *, create: bool) -> tuple[bytes, Path, bool]:
    """The backup key from ``path`` (default ``KEY_DIR/backup.key``); created there when missing and
    ``create``. Returns the key, its file and whether it was just created."""
    path = path or default_backup_key_file()
    created = False
    if not path.exists():
        if not create:
            raise BackupError(_("找不到备份密钥文件 %(path)s") % {"path": path})
        _write_private(path, (crypto.generate_key() + "\n").encode())
        created = True
    try:
        return crypto.load_key(path.read_text(encoding="utf-8")), path, created
    except (OSError, ValueError) as exc:
        raise BackupError(
            _("备份密钥文件 %(path)s 无法读取：%(error)s") % {"path": path, "error": exc}
        ) from exc


def _configured_key(value: str, path: Path) -> str | None:
    """A key as the node would read it (environment, else file), without creating one."""
    if value:
        return value.strip()
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def _check_value(key_text: str | None, purpose: str) -> str:
    """A short value that tells whether two nodes hold the same key, revealing nothing of it."""
    if not key_text:
        return ""
    check = crypto.derive_key(crypto.load_key(key_text), f"backup-key-check:{purpose}")
    return hmac.new(check, b"xietong", hashlib.sha256).hexdigest()[:16]


def key_checks() -> dict[str, str]:
    """Check values of this node's keys (empty where it has none): the node's public key, and
    HMACs under keys derived from the PII and group keys."""
    signing = _configured_key(settings.XIETONG_NODE_SIGNING_KEY, Path(settings.XIETONG_NODE_SIGNING_KEY_FILE))
    return {
        "node_public_key": crypto.public_key_of(signing) if signing else "",
        "pii_key": _check_value(
            _configured_key(settings.XIETONG_PII_KEY, Path(settings.XIETONG_PII_KEY_FILE)), "pii"
        ),
        "group_key": _check_value(
            _configured_key(settings.XIETONG_GROUP_KEY, Path(settings.XIETONG_GROUP_KEY_FILE)), "group"
        ),
    }


KEY_LABELS = {
    "node_public_key": gettext_noop("节点签名密钥"),
    "pii_key": gettext_noop("个人信息加密密钥"),
    "group_key": gettext_noop("区域组比对密钥"),
}
# The key file each key given by environment falls back to (``xietong.core.pii``).
ENV_KEY_FILES: dict[str, Callable[[], Path]] = {
    "XIETONG_PII_KEY": lambda: Path(settings.XIETONG_PII_KEY_FILE),
    "XIETONG_NODE_SIGNING_KEY": lambda: Path(settings.XIETONG_NODE_SIGNING_KEY_FILE),
    "XIETONG_GROUP_KEY": lambda: Path(settings.XIETONG_GROUP_KEY_FILE),
}


@dataclass
class KeyItem:
    """One exported key: its file in the export folder and where it goes back."""

    file: str
    kind: str  # "key_dir" (``target`` relative to KEY_DIR), "group_key_file" or "env" (``target`` a name)
    target: str
    sha256: str


def _key_items() -> Iterator[tuple[KeyItem, bytes]]:
    """Every key of this node: each file of KEY_DIR (later rotations add files there), the group key
    file when it lies elsewhere, and the keys given by environment."""
    folder = key_dir()
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            data, relative = path.read_bytes(), path.relative_to(folder).as_posix()
            yield KeyItem(f"keys/{relative}", "key_dir", relative, hashlib.sha256(data).hexdigest()), data
    group_file = Path(settings.XIETONG_GROUP_KEY_FILE)
    if group_file.is_file() and not _inside(group_file, folder):
        data = group_file.read_bytes()
        yield KeyItem("group/group-match.key", "group_key_file", "", hashlib.sha256(data).hexdigest()), data
    for name in sorted(os.environ):
        if name.startswith("XIETONG_") and is_secret_setting(name) and os.environ[name]:
            data = (os.environ[name].strip() + "\n").encode()
            yield KeyItem(f"env/{name}", "env", name, hashlib.sha256(data).hexdigest()), data


def keys_export(*, target: Path) -> list[str]:
    """Write every key of this node to the folder ``target`` (created 0700, files 0600, with a
    ``keys.json`` listing them). Refuses a folder inside the node's data folder or one that is not
    empty. Returns lines for the operator (warnings included)."""
    for folder, label in (
        (Path(settings.VAR_DIR), gettext_noop("节点数据目录")),
        (key_dir(), gettext_noop("密钥目录")),
    ):
        if _inside(target, folder):
            raise BackupError(
                _(
                    "密钥不能导出到%(label)s %(folder)s 之内（磁盘损坏时会一起丢失）："
                    "请选择离线介质或另一台机器"
                )
                % {"label": _(label), "folder": folder}
            )
    if target.exists() and any(target.iterdir()):
        raise BackupError(_("目标目录 %(path)s 不是空的：请指定一个新目录") % {"path": target})
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.chmod(0o700)
    items = []
    for item, data in _key_items():
        _write_private(target / item.file, data)
        items.append(item)
    if not items:
        raise BackupError(_("本节点没有可导出的密钥"))
    record = {
        "format": FORMAT,
        "node_id": settings.XIETONG_NODE_ID,
        "created_at": timezone.now().isoformat(),
        "items": [item.__dict__ for item in items],
    }
    _write_private(target / KEYS_MANIFEST, json.dumps(record, ensure_ascii=False, indent=2).encode())
    lines = [
        _("已导出 %(count)d 个密钥文件到 %(path)s（仅所有者可读）") % {"count": len(items), "path": target}
    ]
    lines += [f"  {item.file}" for item in items]
    for neighbour in (target.parent, target.parent.parent):
        archives = (
            [p for p in neighbour.iterdir() if p.is_file() and sealed.is_sealed(p)]
            if neighbour.is_dir()
            else []
        )
        if archives:
            lines.append(
                _("警告：%(path)s 旁边有备份文件 %(archive)s；密钥应与备份分开保管")
                % {"path": target, "archive": archives[0].name}
            )
            break
    return lines


def keys_import(*, source: Path) -> list[str]:
    """Put the keys exported by ``keys_export`` back into this node. Checks every file first and
    changes nothing when one differs from a key the node already has. Returns lines for the operator."""
    try:
        record = json.loads((source / KEYS_MANIFEST).read_text(encoding="utf-8"))
        items = [KeyItem(**item) for item in record["items"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(
            _("%(path)s 不是 xietong keys export 导出的目录：%(error)s") % {"path": source, "error": exc}
        ) from exc
    plan: list[tuple[Path, bytes, str]] = []  # where, what, a note for the operator
    lines: list[str] = []
    same = 0
    # A key the exported node had from its environment won over its key file: that file is not put back.
    shadowed = {
        ENV_KEY_FILES[item.target]().resolve()
        for item in items
        if item.kind == "env" and item.target in ENV_KEY_FILES
    }
    for item in items:
        data = (source / item.file).read_bytes() if (source / item.file).is_file() else b""
        if hashlib.sha256(data).hexdigest() != item.sha256:
            raise BackupError(_("密钥文件 %(file)s 缺失或已改动，未导入任何密钥") % {"file": item.file})
        note = ""
        if item.kind == "env":
            current = os.environ.get(item.target, "")
            if current:
                if current.strip() != data.decode().strip():
                    lines.append(
                        _("警告：环境变量 %(name)s 与导出的不同；本节点使用环境中的值")
                        % {"name": item.target}
                    )
                continue
            if item.target not in ENV_KEY_FILES:
                lines.append(
                    _("请在本节点的环境中设置 %(name)s（值在 %(file)s）")
                    % {"name": item.target, "file": source / item.file}
                )
                continue
            destination = ENV_KEY_FILES[item.target]()
            note = _("%(name)s 已写入密钥文件 %(path)s；生产环境请把环境变量 %(name)s 设为其内容") % {
                "name": item.target,
                "path": destination,
            }
        elif item.kind == "group_key_file":
            destination = Path(settings.XIETONG_GROUP_KEY_FILE)
        else:
            destination = key_dir() / item.target
            if not _inside(destination, key_dir()):
                raise BackupError(_("密钥清单中的路径无效：%(path)s") % {"path": item.target})
            if destination.resolve() in shadowed:
                continue
        if destination.exists():
            if destination.read_bytes().strip() != data.strip():
                raise BackupError(
                    _("本节点已有不同的密钥 %(path)s：为免覆盖，未导入任何密钥（确需替换请先移走该文件）")
                    % {"path": destination}
                )
            same += 1
            continue
        plan.append((destination, data, note))
    for destination, data, note in plan:
        _write_private(destination, data)
        if note:
            lines.append(note)
    lines.insert(
        0,
        _("已导入 %(count)d 个密钥文件（%(same)d 个本节点已有且相同）") % {"count": len(plan), "same": same},
    )
    return lines


# --- backup --------------------------------------------------------------------------------------------


def _database() -> dict[str, Any]:
    return dict(settings.DATABASES["default"])


def _is_postgres() -> bool:
    return "postgresql" in _database()["ENGINE"]


def _pg_env() -> dict[str, str]:
    """Environment for pg_dump/pg_restore: the configured database's connection, password included."""
    db = _database()
    env = {**os.environ, "PGDATABASE": str(db["NAME"])}
    for setting, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if db.get(setting):
            env[variable] = str(db[setting])
    options = db.get("OPTIONS", {})
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _("找不到 %(tool)s：请安装与数据库服务器同版本的 PostgreSQL 客户端") % {"tool": name}
        )
    return path


def _run(command: list[str], *, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(
            _("%(tool)s 失败：%(error)s")
            % {"tool": Path(command[0]).name, "error": result.stderr.strip()[-2000:]}
        )


def _dump_database(folder: Path) -> str:
    """A consistent copy of the database in ``folder``; returns its part name."""
    if _is_postgres():
        target = folder / PG_PART
        _run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(target)], env=_pg_env())
        return PG_PART
    target, name = folder / SQLITE_PART, Path(str(_database()["NAME"]))
    if not name.is_file():  # sqlite3.connect would create an empty one and back that up
        raise BackupError(_("数据库文件 %(path)s 不存在：本节点没有可备份的数据") % {"path": name})
    source = sqlite3.connect(str(name))
    try:
        copy = sqlite3.connect(str(target))
        with copy:
            source.backup(copy)  # the online backup API: a consistent snapshot while the node runs
        copy.close()
    finally:
        source.close()
    return SQLITE_PART


def _applied_migrations() -> list[list[str]]:
    return sorted([app, name] for app, name in MigrationRecorder(connection).applied_migrations())


def _settings_parts() -> tuple[dict[str, bytes], list[str]]:
    """The node's settings without secrets: ``node.env`` less secret lines, ``node-entry.json``.
    Returns the files and the names of the settings left out."""
    var = Path(settings.VAR_DIR)
    files: dict[str, bytes] = {}
    omitted: list[str] = []
    node_env = var / "node.env"
    if node_env.is_file():
        kept = []
        for line in node_env.read_text(encoding="utf-8").splitlines():
            name = line.split("=", 1)[0].strip().removeprefix("export ").strip()
            if "=" in line and not line.lstrip().startswith("#") and is_secret_setting(name):
                omitted.append(name)
            else:
                kept.append(line)
        files["settings/node.env"] = ("\n".join(kept) + "\n").encode()
    entry = var / "node-entry.json"
    if entry.is_file():
        files["settings/node-entry.json"] = entry.read_bytes()
    return files, omitted


def _tree(folder: Path, prefix: str, skip: Path) -> Iterator[tuple[str, Path]]:
    """The regular files under ``folder`` as archive names ``prefix/relative``, leaving out ``skip``."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and not _inside(path, skip):
            yield f"{prefix}/{path.relative_to(folder).as_posix()}", path


class _HashingReader:
    """Reads a file for tarfile while hashing it, so each file is read once."""

    def __init__(self, handle: Any) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return bytes(data)


@dataclass
class Summary:
    """What a backup or restore did, for the operator."""

    manifest: dict[str, Any]
    lines: list[str] = field(default_factory=list)


def backup_create(*, target: Path, key: bytes) -> Summary:
    """Write the sealed archive of this node to ``target`` (through a temporary file beside it, so
    there is never a half-written archive under that name)."""
    if _inside(target, key_dir()):
        raise BackupError(_("备份文件不能放在密钥目录 %(path)s 中") % {"path": key_dir()})
    target.parent.mkdir(parents=True, exist_ok=True)
    var = Path(settings.VAR_DIR)
    var.mkdir(parents=True, exist_ok=True)
    parts: list[dict[str, Any]] = []
    partial = target.with_name(f".{target.name}.partial")
    # The database copy is staged in the node's own data folder: it holds the database already.
    with tempfile.TemporaryDirectory(dir=var, prefix=".backup-") as staging:
        database = _dump_database(Path(staging))
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw:
                writer = sealed.SealWriter(raw, key)
                with tarfile.open(fileobj=writer, mode="w|gz") as archive:  # type: ignore[call-overload]
                    sources = [(database, Path(staging) / database)]
                    sources += list(_tree(media_dir(), "media", key_dir()))
                    sources += list(_tree(blob_dir(), "blobs", key_dir()))
                    for name, path in sources:
                        parts.append(_add_file(archive, name, path))
                    setting_files, omitted = _settings_parts()
                    for name, data in setting_files.items():
                        _add_bytes(archive, name, data)
                        parts.append(
                            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                        )
                    manifest = _manifest(database=database, parts=parts, omitted=omitted)
                    _add_bytes(archive, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode())
                writer.close()
                os.fsync(raw.fileno())
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    size = target.stat().st_size
    lines = [
        _(
            "备份已写入 %(path)s（%(size)s 字节，已加密）："
            "数据库、%(media)d 个上传文件、%(blobs)d 个交换文件、节点设置"
        )
        % {
            "path": target,
            "size": f"{size:,}",
            "media": sum(1 for p in parts if p["name"].startswith("media/")),
            "blobs": sum(1 for p in parts if p["name"].startswith("blobs/")),
        }
    ]
    if omitted:
        lines.append(
            _("节点设置中未备份的机密项（恢复时另行提供）：%(names)s") % {"names": "、".join(omitted)}
        )
    if _inside(target, var):
        lines.append(
            _("警告：备份文件在节点数据目录 %(path)s 内；请另存一份到其他机器或介质") % {"path": var}
        )
    return Summary(manifest, lines)


def _add_file(archive: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    """Add one file (owner-only, no owner names) and return its manifest entry."""
    with path.open("rb") as handle:
        info = archive.gettarinfo(fileobj=handle, arcname=name)
        info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
        reader = _HashingReader(handle)
        archive.addfile(info, reader)
    return {"name": name, "size": info.size, "sha256": reader.digest.hexdigest()}


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(timezone.now().timestamp())
    archive.addfile(info, io.BytesIO(data))


def _app_version() -> str:
    try:
        return metadata.version("xietong")
    except metadata.PackageNotFoundError:
        return ""


def _manifest(*, database: str, parts: list[dict[str, Any]], omitted: list[str]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "app_version": _app_version(),
        "created_at": timezone.now().isoformat(),
        "node": {
            "node_id": settings.XIETONG_NODE_ID,
            "name": settings.XIETONG_NODE_NAME,
            "region_code": settings.XIETONG_REGION_CODE,
            "endpoint": settings.XIETONG_NODE_ENDPOINT,
            "hub_node_id": settings.XIETONG_HUB_NODE_ID,
            "hub_endpoint": settings.XIETONG_HUB_ENDPOINT,
        },
        "database": {"engine": "postgresql" if database == PG_PART else "sqlite", "part": database},
        "migrations": _applied_migrations(),
        "keys": key_checks(),
        "omitted_settings": omitted,
        "parts": parts,
    }


# --- restore -------------------------------------------------------------------------------------------


def _database_tables() -> list[str]:
    """The tables of the configured database (none for a SQLite file that does not exist yet)."""
    if not _is_postgres() and not Path(str(_database()["NAME"])).exists():
        return []
    try:
        with connection.cursor() as cursor:
            return list(connection.introspection.table_names(cursor))
    except DatabaseError as exc:
        raise BackupError(
            _("无法连接数据库 %(name)s：%(error)s（PostgreSQL 请先用 createdb 建立空库）")
            % {"name": _database()["NAME"], "error": exc}
        ) from exc


def _not_empty(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


def _emptiness_problems() -> list[str]:
    """Why this node is not empty, each with how to empty it."""
    problems = []
    tables = _database_tables()
    if tables:
        how = (
            _(
                "PostgreSQL：dropdb 后重新 createdb"
                "（或在库中执行 DROP SCHEMA public CASCADE; CREATE SCHEMA public;）"
            )
            if _is_postgres()
            else _("SQLite：停止节点后删除 %(path)s") % {"path": _database()["NAME"]}
        )
        problems.append(
            _("数据库已有 %(count)d 张表。清空方法：%(how)s") % {"count": len(tables), "how": how}
        )
    for folder, label in (
        (media_dir(), gettext_noop("上传文件目录")),
        (blob_dir(), gettext_noop("交换文件目录")),
    ):
        if _not_empty(folder):
            problems.append(
                _("%(label)s %(path)s 不是空的：请移走其中的文件") % {"label": _(label), "path": folder}
            )
    return problems


def _open_archive(source: Path, key: bytes, staging: Path) -> tuple[dict[str, Any], Path]:
    """Decrypt ``source`` into ``staging`` and check every part against the manifest; returns the
    manifest and the folder holding the parts. ``BackupError(WRONG_KEY)`` on any mismatch."""
    plain = staging / "archive.tar.gz"
    try:
        with source.open("rb") as raw, plain.open("wb") as out:
            sealed.unseal(raw, out, key)
    except sealed.SealError as exc:
        raise BackupError(_(WRONG_KEY)) from exc
    tree = staging / "tree"
    tree.mkdir()
    try:
        with tarfile.open(plain, "r:gz") as archive:
            archive.extractall(tree, filter="data")
        manifest = json.loads((tree / MANIFEST).read_text(encoding="utf-8"))
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise BackupError(_(WRONG_KEY)) from exc
    finally:
        plain.unlink(missing_ok=True)
    if manifest.get("format") != FORMAT:
        raise BackupError(_("不支持的备份格式：%(format)s") % {"format": manifest.get("format")})
    listed = {part["name"]: part["sha256"] for part in manifest["parts"]}
    present = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()} - {MANIFEST}
    if present != set(listed):
        raise BackupError(_(WRONG_KEY))
    for name, digest in listed.items():
        if _sha256_file(tree / name) != digest:
            raise BackupError(_(WRONG_KEY))
    return manifest, tree


def _compatibility_problems(manifest: dict[str, Any]) -> list[str]:
    """What in this node does not fit the archive: database kind, migrations, node id, keys."""
    problems = []
    if (manifest["database"]["engine"] == "postgresql") != _is_postgres():
        problems.append(
            _("备份的数据库类型（%(archive)s）与本节点（%(node)s）不同")
            % {
                "archive": manifest["database"]["engine"],
                "node": "postgresql" if _is_postgres() else "sqlite",
            }
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    newer = [f"{app}.{name}" for app, name in manifest["migrations"] if (app, name) not in known]
    if newer:
        problems.append(
            _("备份来自较新的程序版本（本程序没有迁移 %(names)s）：请先升级程序")
            % {"names": "、".join(newer[:5])}
        )
    node_id = manifest["node"]["node_id"]
    fixed = (Path(settings.VAR_DIR) / "node.env").is_file() or os.environ.get("XIETONG_NODE_ID")
    if fixed and node_id != settings.XIETONG_NODE_ID:
        problems.append(
            _("本节点编号为 %(here)s，备份来自节点 %(archive)s")
            % {"here": settings.XIETONG_NODE_ID, "archive": node_id}
        )
    here = key_checks()
    for name, value in manifest["keys"].items():
        if value and here.get(name) != value:
            state = _("缺失") if not here.get(name) else _("与备份时不同")
            problems.append(
                _("本节点的%(key)s%(state)s：请先运行 xietong keys import --from 导出的密钥目录")
                % {"key": _(KEY_LABELS.get(name, name)), "state": state}
            )
    return problems


def restore(*, source: Path, key: bytes) -> Summary:
    """Restore the archive ``source`` into this empty node: decrypt and check everything first,
    then the database, uploaded files, exchange files and (when the node has none) its settings."""
    problems = _emptiness_problems()
    if problems:
        raise BackupError(_("只能恢复到空节点：") + "；".join(problems))
    var = Path(settings.VAR_DIR)
    var.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=var, prefix=".restore-") as staging:
        manifest, tree = _open_archive(source, key, Path(staging))
        problems = _compatibility_problems(manifest)
        if problems:
            raise BackupError(_("不能恢复：") + "；".join(problems))
        _restore_database(tree / manifest["database"]["part"])
        for folder, prefix in ((media_dir(), "media"), (blob_dir(), "blobs")):
            _move_tree(tree / prefix, folder)
        lines = _restore_settings(tree / "settings", manifest)
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    pending = len(known - {(app, name) for app, name in manifest["migrations"]})
    lines.insert(
        0,
        _("已恢复节点 %(node)s 于 %(created)s 的备份：数据库、%(files)d 个文件")
        % {
            "node": manifest["node"]["node_id"],
            "created": manifest["created_at"],
            "files": len(manifest["parts"]) - 1,
        },
    )
    if pending:
        lines.append(_("本程序比备份多 %(count)d 个数据库迁移：请运行 xietong migrate") % {"count": pending})
    if manifest.get("omitted_settings"):
        lines.append(
            _("请另行提供未备份的机密设置：%(names)s") % {"names": "、".join(manifest["omitted_settings"])}
        )
    return Summary(manifest, lines)


def _restore_database(part: Path) -> None:
    connections.close_all()
    if _is_postgres():
        _run(
            [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
             "--single-transaction", "-d", str(_database()["NAME"]), str(part)],
            env=_pg_env(),
        )  # fmt: skip
        return
    target = Path(str(_database()["NAME"]))
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    source = sqlite3.connect(str(part))
    try:
        copy = sqlite3.connect(str(target))
        with copy:
            source.backup(copy)
        copy.close()
    finally:
        source.close()


def _move_tree(source: Path, target: Path) -> None:
    """Move every file under ``source`` to the same place under ``target``."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if path.is_file():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), destination)
            destination.chmod(0o644)


def _restore_settings(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Put ``node.env`` and ``node-entry.json`` back where this node has none."""
    lines = []
    var = Path(settings.VAR_DIR)
    for name in ("node.env", "node-entry.json"):
        part, target = folder / name, var / name
        if not part.is_file():
            continue
        if target.exists():
            lines.append(_("保留本节点已有的 %(path)s") % {"path": target})
            continue
        shutil.move(str(part), target)
        lines.append(_("已恢复节点设置 %(path)s") % {"path": target})
    return lines
