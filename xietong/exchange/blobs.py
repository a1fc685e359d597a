"""The blob folder of the exchange: the files that messages carry (ADR 017).

A message's files live outside the database, under ``XIETONG_EXCHANGE_BLOB_DIR`` in
``<out|in>/<message id>/<name>``; a file being received is ``<name>.part`` until its size is reached
and its SHA-256 matches the signed manifest, then it is renamed in one step. This module knows the
folder (paths, copying in, hashing, writing a chunk, pruning); what moves the files and records
their state is in ``actions`` (the "Files" section).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError

from .choices import Direction, FileState
from .envelope import FILE_NAME

if TYPE_CHECKING:
    from .models import ExchangeMessage

MB = 1024 * 1024
READ_BYTES = MB


def blob_dir() -> Path:
    return Path(settings.XIETONG_EXCHANGE_BLOB_DIR)


def max_file_bytes() -> int:
    """The largest file this node sends or accepts (``XIETONG_EXCHANGE_MAX_FILE_MB``)."""
    return int(settings.XIETONG_EXCHANGE_MAX_FILE_MB * MB)


def chunk_bytes() -> int:
    """The size of one upload request (``XIETONG_EXCHANGE_CHUNK_MB``)."""
    return max(1, int(settings.XIETONG_EXCHANGE_CHUNK_MB * MB))


def message_dir(direction: str, message_id: str) -> Path:
    return blob_dir() / direction / message_id


def file_path(message: ExchangeMessage, name: str) -> Path:
    """Where the complete file ``name`` of ``message`` is (or will be once it has arrived)."""
    return message_dir(message.direction, message.message_id) / name


def part_path(message: ExchangeMessage, name: str) -> Path:
    """Where a file being received is written until it is complete and checked."""
    return message_dir(message.direction, message.message_id) / f"{name}.part"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(READ_BYTES):
            digest.update(block)
    return digest.hexdigest()


def store_outgoing(message_id: str, files: dict[str, Path]) -> list[dict[str, Any]]:
    """Copy the files a message will carry into the blob folder (hashing them on the way) and return
    the manifest the message signs. ``ValidationError`` for a bad name, a missing file or one over
    ``XIETONG_EXCHANGE_MAX_FILE_MB``; nothing is left in the folder then."""
    limit = max_file_bytes()
    for name, source in files.items():
        if not FILE_NAME.match(name):
            raise ValidationError(f"文件名不合规：{name}（仅限字母、数字、点、横线和下划线）")
        source = Path(source)
        if not source.is_file():
            raise ValidationError(f"文件不存在：{source}")
        if source.stat().st_size > limit:
            raise ValidationError(
                f"文件 {name} 有 {source.stat().st_size} 字节，超过本节点的上限 {limit} 字节"
            )
    folder = message_dir(Direction.OUT, message_id)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = []
    try:
        for name, source in files.items():
            target, digest, size = folder / name, hashlib.sha256(), 0
            with Path(source).open("rb") as reader, (folder / f"{name}.part").open("wb") as writer:
                while block := reader.read(READ_BYTES):
                    digest.update(block)
                    writer.write(block)
                    size += len(block)
            os.replace(folder / f"{name}.part", target)
            manifest.append({"name": name, "size": size, "sha256": digest.hexdigest()})
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ValidationError(f"无法保存待发送的文件：{disk_error(exc)}") from exc
    return manifest


def disk_error(exc: OSError) -> str:
    """An ``OSError`` of the blob folder in words (a full disk said plainly)."""
    if exc.errno == 28:  # ENOSPC
        return f"磁盘空间不足（{blob_dir()}）"
    return str(exc)


def held(message: ExchangeMessage, name: str) -> int:
    """How many bytes of an incoming file are on disk (the whole size once it is complete)."""
    for path in (file_path(message, name), part_path(message, name)):
        if path.exists():
            return path.stat().st_size
    return 0


def write_chunk(path: Path, offset: int, data: bytes) -> None:
    """Write ``data`` at ``offset`` of ``path`` and cut what followed (a chunk sent again replaces
    the bytes from there); ``OSError`` as raised (the caller removes the part)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.ftruncate(fd, offset + len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def discard_part(message: ExchangeMessage, name: str) -> None:
    part_path(message, name).unlink(missing_ok=True)


def files_ready(message: ExchangeMessage) -> bool:
    """Whether every file ``message`` names has arrived and matched its hash (the inbox applies a
    message only then). A message without files is always ready."""
    if not message.manifest:
        return True
    complete = set(message.transfers.filter(state=FileState.COMPLETE).values_list("name", flat=True))
    return all(
        entry["name"] in complete and file_path(message, entry["name"]).is_file()
        for entry in message.manifest
    )


def message_files(message: ExchangeMessage) -> dict[str, Path]:
    """The files of ``message`` by name, as its handler gets them (paths in the blob folder, to be
    read, not changed)."""
    return {entry["name"]: file_path(message, entry["name"]) for entry in message.manifest}


def prune(message: ExchangeMessage) -> None:
    """Delete the files of ``message`` (complete or partial) from the blob folder; the manifest, with
    each file's hash, stays in the message log (retention, a rejected or failed message)."""
    shutil.rmtree(message_dir(message.direction, message.message_id), ignore_errors=True)


def sweep(*, older_than_seconds: float = 3600) -> int:
    """Remove what no transfer will finish: ``.part`` files of incoming messages that no longer wait
    for files, and folders of messages that are not in the log (a send whose transaction rolled back
    after its files were copied), once older than ``older_than_seconds``; the number removed."""
    from .choices import MessageStatus
    from .models import ExchangeMessage

    cutoff, removed = time.time() - older_than_seconds, 0
    for direction in (Direction.OUT, Direction.IN):
        root = blob_dir() / direction
        folders = [path for path in root.iterdir() if path.is_dir()] if root.is_dir() else []
        states = dict(
            ExchangeMessage.objects.filter(
                direction=direction, message_id__in=[path.name for path in folders]
            ).values_list("message_id", "status")
        )
        for folder in folders:
            if folder.stat().st_mtime > cutoff:
                continue
            if folder.name not in states:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
            elif direction == Direction.IN and states[folder.name] != MessageStatus.WAITING:
                for part in folder.glob("*.part"):
                    part.unlink(missing_ok=True)
                    removed += 1
    return removed
