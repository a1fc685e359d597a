"""Personal data at rest: the node's keys, field encryption, blind indexes and masking.

One master key (``XIETONG_PII_KEY``, or a key file in ``XIETONG_KEY_DIR`` on an embedded node) is
stretched with HKDF into separate keys for encryption and for each blind index, so a leaked index
key does not decrypt anything. The master key never enters the database.

Key rotation (``xietong keys rotate-pii``, operator guide 密钥轮换): the first key is ``k1``; each
rotation adds a master key file ``KEY_DIR/pii-k<N>.key`` and names it current in
``KEY_DIR/pii-keys.json``. New values are encrypted and indexed with the current key at once (every
process notices the state file change); tokens carry their key id, so every key of the ring still
decrypts. Until the re-encryption job has rewritten every row, look-ups search with the index of
every key not yet retired (``lookup_indexes``); the job then retires the old keys for look-ups.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from xietong.lib import crypto

if TYPE_CHECKING:
    from .models import Person
    from .typing import Viewer

KEY_ID = "k1"  # the first key: XIETONG_PII_KEY or XIETONG_PII_KEY_FILE
STATE_FILE = "pii-keys.json"


def _key_text(value: str, path: Path, *, autocreate: bool, make: Callable[[], str], missing: str) -> str:
    """A key from the environment (``value``), else from ``path``, else written there if allowed."""
    if value:
        return value
    if path.exists():
        return path.read_text().strip()
    if not autocreate:
        raise ImproperlyConfigured(missing)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


@functools.cache
def master_key() -> bytes:
    """The node's PII master key: from the environment, else from the key file (created if allowed)."""
    text = _key_text(
        settings.XIETONG_PII_KEY,
        Path(settings.XIETONG_PII_KEY_FILE),
        autocreate=settings.XIETONG_PII_KEY_AUTOCREATE,
        make=crypto.generate_key,
        missing="未配置个人信息加密密钥：请设置环境变量 XIETONG_PII_KEY",
    )
    return crypto.load_key(text)


SIGNING_STATE_FILE = "node-signing-keys.json"


@dataclass(frozen=True)
class SigningKey:
    """One of the node's Ed25519 signing keys and when it signed: from ``valid_from`` (``None``: the
    first key) until ``valid_until`` (``None``: the current key)."""

    private_key: str = field(repr=False)
    public_key: str
    valid_from: datetime | None
    valid_until: datetime | None

    def covers(self, when: datetime, *, skew_seconds: int = 0) -> bool:
        """Whether the key was current at ``when`` (with ``skew_seconds`` either side)."""
        skew = timedelta(seconds=skew_seconds)
        return (self.valid_from is None or self.valid_from - skew <= when) and (
            self.valid_until is None or when < self.valid_until + skew
        )


def _first_signing_key() -> str:
    """The node's first signing key: ``XIETONG_NODE_SIGNING_KEY``, else its key file (created if
    allowed)."""
    return _key_text(
        settings.XIETONG_NODE_SIGNING_KEY,
        Path(settings.XIETONG_NODE_SIGNING_KEY_FILE),
        autocreate=settings.XIETONG_PII_KEY_AUTOCREATE,
        make=lambda: crypto.generate_signing_key()[0],
        missing="未配置节点签名密钥：请设置环境变量 XIETONG_NODE_SIGNING_KEY",
    )


def _signing_state_path() -> Path:
    return Path(settings.KEY_DIR) / SIGNING_STATE_FILE


def _file_stamp(path: Path) -> Stamp:
    try:
        found = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (found.st_ino, found.st_mtime_ns)


@functools.cache
def _signing_keys_at(stamp: Stamp) -> tuple[SigningKey, ...]:
    """The signing keys as ``node-signing-keys.json`` lists them (the first key is implied)."""
    state = json.loads(_signing_state_path().read_text()) if any(stamp) else {}
    added = state.get("keys", [])
    privates = [_first_signing_key()]
    starts: list[datetime | None] = [None]
    for entry in added:
        path = Path(settings.KEY_DIR) / entry["file"]
        if not path.exists():
            raise ImproperlyConfigured(_("节点签名密钥文件缺失：%(path)s") % {"path": path})
        privates.append(path.read_text().strip())
        starts.append(datetime.fromisoformat(entry["valid_from"]))
    ends = [*starts[1:], None]
    return tuple(
        SigningKey(private, crypto.public_key_of(private), start, end)
        for private, start, end in zip(privates, starts, ends, strict=True)
    )


def node_signing_keys() -> tuple[SigningKey, ...]:
    """Every signing key this node has had, oldest first; the last one is current. Earlier keys stay
    so that what they signed (messages, printed cards) still verifies (ADR 019)."""
    return _signing_keys_at(_file_stamp(_signing_state_path()))


def node_signing_key() -> str:
    """The node's current Ed25519 private key (base64url), which signs card tokens and exchange
    messages."""
    return node_signing_keys()[-1].private_key


def node_public_key() -> str:
    """The node's current published Ed25519 public key (base64url)."""
    return node_signing_keys()[-1].public_key


def node_signing_key_add(*, private_key: str, valid_from: datetime) -> SigningKey:
    """Make ``private_key`` the node's current signing key from ``valid_from`` (``xietong node
    rotate-key``): its file ``KEY_DIR/node-signing-<N>.key`` and the state file are written; every
    process sees the change at its next signature."""
    keys = node_signing_keys()
    if keys[-1].valid_from is not None and valid_from <= keys[-1].valid_from:
        raise ValueError("新签名密钥的启用时间应晚于当前密钥")
    folder = Path(settings.KEY_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    number = len(keys) + 1
    while (folder / f"node-signing-{number}.key").exists():  # left by a rotation that did not finish
        number += 1
    name = f"node-signing-{number}.key"
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(private_key + "\n")
    path = _signing_state_path()
    state = json.loads(path.read_text()) if path.exists() else {"keys": []}
    state["keys"].append({"file": name, "valid_from": valid_from.isoformat()})
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    temporary.chmod(0o600)
    os.replace(temporary, path)
    return node_signing_keys()[-1]


@functools.cache
def group_key() -> bytes:
    """The region group's comparison key for private-mode encodings (ADR 009): the same on every node
    of the group, given to each by its operator (``xietong node init --group-key-file``). An embedded
    hub makes its own on first use; other nodes must be given the hub's."""
    is_hub = settings.XIETONG_HUB_NODE_ID == settings.XIETONG_NODE_ID
    text = _key_text(
        settings.XIETONG_GROUP_KEY,
        Path(settings.XIETONG_GROUP_KEY_FILE),
        autocreate=settings.XIETONG_PII_KEY_AUTOCREATE and is_hub,
        make=crypto.generate_key,
        missing="未配置区域组比对密钥：请设置 XIETONG_GROUP_KEY（或 node init --group-key-file）",
    )
    return crypto.load_key(text)


def _state_path() -> Path:
    return Path(settings.KEY_DIR) / STATE_FILE


def _key_path(key_id: str) -> Path:
    return Path(settings.KEY_DIR) / f"pii-{key_id}.key"


Stamp = tuple[int, int]


def _state_stamp() -> Stamp:
    """Which version of the key state file is there: its inode (a new one at each replacement) and
    change time, ``(0, 0)`` if there is none. Cached rings are keyed by it, so a rotation made by
    another process is seen at the next call."""
    try:
        found = _state_path().stat()
    except FileNotFoundError:
        return (0, 0)
    return (found.st_ino, found.st_mtime_ns)


@dataclass(frozen=True)
class KeyRing:
    """The PII master keys this node holds: ``current`` encrypts and indexes new values; ``lookup`` are
    the ids whose indexes look-ups search (current first, then keys not yet retired)."""

    masters: dict[str, bytes]
    current: str
    lookup: tuple[str, ...]


@functools.cache
def _ring_at(stamp: Stamp) -> KeyRing:
    state = json.loads(_state_path().read_text()) if any(stamp) else {}
    current = state.get("current", KEY_ID)
    retired = set(state.get("retired", []))
    masters = {KEY_ID: master_key()}
    for key_id in state.get("keys", []):
        if key_id != KEY_ID:
            masters[key_id] = crypto.load_key(_key_path(key_id).read_text())
    if current not in masters:
        raise ImproperlyConfigured(_("个人信息加密密钥“%(key)s”的密钥文件缺失") % {"key": current})
    lookup = (current, *(k for k in masters if k != current and k not in retired))
    return KeyRing(masters=masters, current=current, lookup=lookup)


def key_ring() -> KeyRing:
    """The node's PII key ring as the key state file says now."""
    return _ring_at(_state_stamp())


@functools.cache
def _cipher_at(stamp: Stamp) -> crypto.FieldCipher:
    ring = _ring_at(stamp)
    keys = {kid: crypto.derive_key(master, "field-encryption") for kid, master in ring.masters.items()}
    return crypto.FieldCipher(keys=keys, current=ring.current)


def _cipher() -> crypto.FieldCipher:
    return _cipher_at(_state_stamp())


@functools.cache
def _index_key_of(key_id: str, purpose: str, stamp: Stamp) -> bytes:
    return crypto.derive_key(_ring_at(stamp).masters[key_id], f"blind-index:{purpose}")


def _index_key(purpose: str, key_id: str | None = None) -> bytes:
    stamp = _state_stamp()
    return _index_key_of(key_id or _ring_at(stamp).current, purpose, stamp)


def encrypt(value: str, *, field: str) -> str:
    """Encrypt one field value with the current key; ``field`` is bound in as associated data."""
    return _cipher().encrypt(value, aad=field.encode())


def encrypt_many(values: Sequence[str], *, field: str) -> list[str]:
    """``encrypt`` for many values of one field."""
    return _cipher().encrypt_many(values, aad=field.encode())


def decrypt(token: str, *, field: str) -> str:
    """Decrypt a value written by ``encrypt`` for the same field, with the key its token names."""
    return _cipher().decrypt(token, aad=field.encode())


def needs_rotation(token: str) -> bool:
    """Whether ``token`` was encrypted with a key other than the current one."""
    return bool(token) and _cipher().needs_rotation(token)


def blind_index(value: str, *, purpose: str) -> str:
    """The keyed exact-match index of a normalised value (e.g. purpose ``"id_number"``) under the
    current key: what is stored. Search with ``lookup_indexes``, which also covers rows not yet
    re-indexed during a key rotation."""
    return crypto.blind_index(value, _index_key(purpose), purpose=purpose)


def blind_indexes(values: Iterable[str], *, purpose: str) -> list[str]:
    """``blind_index`` of many values."""
    return crypto.blind_indexes(values, _index_key(purpose), purpose=purpose)


def lookup_indexes(value: str, *, purpose: str) -> list[str]:
    """The indexes a stored row of ``value`` may carry: the current key's first, then those of keys
    not yet retired (a rotation in progress). Filter with ``<field>__in``."""
    return [
        crypto.blind_index(value, _index_key(purpose, key_id), purpose=purpose)
        for key_id in key_ring().lookup
    ]


def old_lookup_indexes(values: Sequence[str], current: Sequence[str], *, purpose: str) -> dict[str, str]:
    """For many values and their ``current`` indexes (``blind_indexes``): each index a row not yet
    re-indexed may carry → the current index of the same value, so that rows found under an old key
    map back to what callers computed. Empty when no rotation is in progress."""
    found: dict[str, str] = {}
    for key_id in key_ring().lookup[1:]:
        old = crypto.blind_indexes(values, _index_key(purpose, key_id), purpose=purpose)
        found.update(zip(old, current, strict=True))
    return found


def id_number_lookup(text: str) -> list[str]:
    """The blind indexes to search by (``id_number_index__in``) when ``text`` is a valid ID number
    (15 or 18 digits, full-width and spaced forms accepted), else ``[]``: search boxes accept names
    and ID numbers alike. More than one during a key rotation (``lookup_indexes``)."""
    from xietong.lib import idnumber

    try:
        return lookup_indexes(idnumber.parse(text.strip()).number, purpose="id_number")
    except idnumber.InvalidIdNumber:
        return []


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def may_reveal(user: Viewer | None, person: Person) -> bool:
    """Whether ``user`` may see ``person``'s full personal data (``core.reveal_person`` over them)."""
    return bool(user is not None and user.is_authenticated and user.has_perm("core.reveal_person", person))


def birth_shown(user: Viewer | None, person: Person) -> date | str:
    """The birth value a page, an API answer or an export may show ``user`` for ``person``.

    A masked ID number (``110101********6995``) hides exactly the eight birth-date digits, so the
    full birth date beside it would rebuild the number (issue 11, defect 3). Only accounts that may
    reveal the number see the date; every other account sees the year (``"1985年"``). This is the
    one place that decides it.
    """
    birth = person.birth_date
    if birth is None:
        return ""
    if may_reveal(user, person):
        return birth
    return _("%(year)d年") % {"year": birth.year}


def birth_text(user: Viewer | None, person: Person) -> str:
    """``birth_shown`` as text: ``1985-03-07`` or ``1985年``."""
    value = birth_shown(user, person)
    return value.isoformat() if isinstance(value, date) else value


def birth_column(path: str = "") -> Any:
    """The export column of ``birth_shown`` for the person at attribute ``path`` of each exported
    row (``""``: the row is the person; ``"person"``: a member's person), for ``export_columns``."""
    from .generic import UserColumn

    def value(row: Any, user: Viewer) -> date | str:
        person = row
        for part in filter(None, path.split(".")):
            person = getattr(person, part)
        return birth_shown(user, person)

    # Deciding needs the person's organisation: read it with the rows, not one query per row.
    organization = "__".join([*filter(None, path.split(".")), "organization"])
    return UserColumn(value, related=(organization,))


def reset_caches() -> None:
    """Forget cached keys (tests that change the key settings call this)."""
    master_key.cache_clear()
    _signing_keys_at.cache_clear()
    group_key.cache_clear()
    _ring_at.cache_clear()
    _cipher_at.cache_clear()
    _index_key_of.cache_clear()
