"""Personal data at rest: the node's keys, field encryption, blind indexes and masking.

One master key (``XIETONG_PII_KEY``, or a key file in ``XIETONG_KEY_DIR`` on an embedded node) is
stretched with HKDF into separate keys for encryption and for each blind index, so a leaked index
key does not decrypt anything. The master key never enters the database.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from xietong.lib import crypto

if TYPE_CHECKING:
    from .models import Person
    from .typing import Viewer

KEY_ID = "k1"


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


@functools.cache
def node_signing_key() -> str:
    """The node's Ed25519 private key (base64url), which signs card tokens and exchange messages."""
    return _key_text(
        settings.XIETONG_NODE_SIGNING_KEY,
        Path(settings.XIETONG_NODE_SIGNING_KEY_FILE),
        autocreate=settings.XIETONG_PII_KEY_AUTOCREATE,
        make=lambda: crypto.generate_signing_key()[0],
        missing="未配置节点签名密钥：请设置环境变量 XIETONG_NODE_SIGNING_KEY",
    )


@functools.cache
def node_public_key() -> str:
    """The node's published Ed25519 public key (base64url)."""
    return crypto.public_key_of(node_signing_key())


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


@functools.cache
def _cipher() -> crypto.FieldCipher:
    return crypto.FieldCipher(
        keys={KEY_ID: crypto.derive_key(master_key(), "field-encryption")}, current=KEY_ID
    )


@functools.cache
def _index_key(purpose: str) -> bytes:
    return crypto.derive_key(master_key(), f"blind-index:{purpose}")


def encrypt(value: str, *, field: str) -> str:
    """Encrypt one field value; ``field`` is bound in as associated data."""
    return _cipher().encrypt(value, aad=field.encode())


def encrypt_many(values: Sequence[str], *, field: str) -> list[str]:
    """``encrypt`` for many values of one field."""
    return _cipher().encrypt_many(values, aad=field.encode())


def decrypt(token: str, *, field: str) -> str:
    """Decrypt a value written by ``encrypt`` for the same field."""
    return _cipher().decrypt(token, aad=field.encode())


def blind_index(value: str, *, purpose: str) -> str:
    """The keyed exact-match index of a normalised value (e.g. purpose ``"id_number"``)."""
    return crypto.blind_index(value, _index_key(purpose), purpose=purpose)


def blind_indexes(values: Iterable[str], *, purpose: str) -> list[str]:
    """``blind_index`` of many values."""
    return crypto.blind_indexes(values, _index_key(purpose), purpose=purpose)


def id_number_lookup(text: str) -> str | None:
    """The blind index to search by when ``text`` is a valid ID number (15 or 18 digits, full-width
    and spaced forms accepted), else ``None``: search boxes accept names and ID numbers alike."""
    from xietong.lib import idnumber

    try:
        return blind_index(idnumber.parse(text.strip()).number, purpose="id_number")
    except idnumber.InvalidIdNumber:
        return None


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
    node_signing_key.cache_clear()
    node_public_key.cache_clear()
    group_key.cache_clear()
    _cipher.cache_clear()
    _index_key.cache_clear()
