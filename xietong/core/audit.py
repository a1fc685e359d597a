"""Writing and verifying the audit log (the only way rows get into ``AuditEvent``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .choices import AuditAction
from .middleware import current_ip
from .models.audit import GENESIS_HASH, AuditEvent

if TYPE_CHECKING:
    from .models import User

# Any constant serialises audit writes on PostgreSQL; SQLite serialises writers by itself.
_AUDIT_LOCK_ID = 0x58494554


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_ID])


def record(
    action: AuditAction | str,
    *,
    target: models.Model | None = None,
    target_type: str = "",
    acting_user: User | None = None,
    organization: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the hash-chained log, in the caller's transaction.

    ``target`` is the record acted on; ``before``/``after`` are ``snapshot()`` dicts for changes;
    ``detail`` holds anything else worth keeping (e.g. the search term of a look-up). The
    organisation defaults to the target's owning organisation so the log is scoped like the data.
    """
    changes: dict[str, Any] = {}
    if before is not None or after is not None:
        keys = sorted(set(before or {}) | set(after or {}))
        changes["fields"] = {
            key: [(before or {}).get(key), (after or {}).get(key)]
            for key in keys
            if (before or {}).get(key) != (after or {}).get(key)
        }
    if detail:
        changes["detail"] = detail
    if organization is None and target is not None:
        organization = _owning_organization(target)
    user = (
        acting_user if acting_user is not None and getattr(acting_user, "is_authenticated", False) else None
    )
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=user,
            actor_username=user.get_username() if user else "",
            action=str(action),
            target_type=target_type or (target._meta.label_lower if target is not None else ""),
            target_id=str(target.pk) if target is not None else "",
            target_repr=str(target)[:200] if target is not None else "",
            organization=organization,
            changes=changes,
            ip_address=current_ip(),
            prev_hash=last or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


def _owning_organization(target: models.Model) -> Any:
    from .models.organizations import Organization

    if isinstance(target, Organization):
        return target
    scope_field = getattr(target, "scope_field", None)
    if not scope_field:
        return None
    obj: Any = target
    for part in scope_field.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@dataclass(frozen=True)
class BrokenLink:
    """The first place where the chain does not hold, with the reason in Chinese."""

    event_id: int
    reason: str


def verify(*, batch_size: int = 2000) -> tuple[int, BrokenLink | None]:
    """Walk the log in order and recompute every hash. Returns (rows checked, first broken link or None)."""
    previous = GENESIS_HASH
    checked = 0
    for event in _iterate(batch_size):
        if event.prev_hash != previous:
            return checked, BrokenLink(
                event.pk, f"第{event.pk}条的前一条哈希与上一条记录不符（记录被删除或插入）"
            )
        if event.compute_hash() != event.hash:
            return checked, BrokenLink(event.pk, f"第{event.pk}条的内容与其哈希不符（记录被修改）")
        previous = event.hash
        checked += 1
    return checked, None


def _iterate(batch_size: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(pk__gt=last_id).order_by("pk")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].pk


# Reading the log: every page and export shows an event's details through ``describe``. --------------


@dataclass(frozen=True)
class AuditLine:
    """One detail of an event in words: a field that changed (``old`` → ``new``) or a fact kept
    with the event (``old`` is ``None``)."""

    label: str
    new: str
    old: str | None = None

    def __str__(self) -> str:
        if self.old is None:
            return f"{self.label}：{self.new}"
        return f"{self.label}：{self.old} → {self.new}"


@dataclass(frozen=True)
class AuditDescription:
    """What an event was about (the model's name) and its details, ready to show or export."""

    target_type: str
    lines: tuple[AuditLine, ...]

    def __str__(self) -> str:
        return "；".join(str(line) for line in self.lines)


#: Labels of the facts actions keep in ``detail`` (``record(detail=…)``), and how to name a value
#: where the raw one is a code. Other apps add theirs with ``register_detail``.
_DETAIL_LABELS: dict[str, Any] = {
    "username": gettext_lazy("输入的账号"),
    "query": gettext_lazy("查询的号码"),
    "found": gettext_lazy("是否找到"),
    "role": gettext_lazy("角色"),
    "organization": gettext_lazy("组织"),
    "attempt": gettext_lazy("尝试的操作"),
    "reason": gettext_lazy("原因"),
    "locked_out": gettext_lazy("因多次密码错误被锁定"),
    "filename": gettext_lazy("文件名"),
    "q": gettext_lazy("搜索"),
    "sort": gettext_lazy("排序"),
    "from": gettext_lazy("来源节点"),
    "issued": gettext_lazy("发卡数"),
    "printed": gettext_lazy("打印张数"),
    "title": gettext_lazy("标题"),
    "repeated": gettext_lazy("重复提交"),
    "id_number_masked": gettext_lazy("身份证号码（脱敏）"),
    "created": gettext_lazy("新增"),
    "updated": gettext_lazy("更新"),
    "invalid": gettext_lazy("无效行"),
    "rows": gettext_lazy("行数"),
    "records": gettext_lazy("记录数"),
    "version": gettext_lazy("版本"),
}
_DETAIL_VALUES: dict[str, Callable[[Any], str]] = {}
#: How to name the stored value of a field that holds a code (a node id) rather than a relation,
#: keyed by (model label, field name); apps add theirs with ``register_field_value``.
_FIELD_VALUES: dict[tuple[str, str], Callable[[Any], str]] = {}


def register_detail(key: str, label: Any, value: Callable[[Any], str] | None = None) -> None:
    """Name a ``detail`` key of another app's events (``label``) and, optionally, how to turn its raw
    value (a code, a node id) into words (``value``); call it from the app's ``ready()``."""
    _DETAIL_LABELS[key] = label
    if value is not None:
        _DETAIL_VALUES[key] = value


def register_field_value(model_label: str, field: str, value: Callable[[Any], str]) -> None:
    """Name the raw values of ``field`` of ``model_label`` (``inspection.arrearslisting``) in the
    changes an event shows, e.g. a node id by the node's name; call it from the app's ``ready()``."""
    _FIELD_VALUES[(model_label, field)] = value


def describe(event: AuditEvent) -> AuditDescription:
    """An event in words: the model's verbose name instead of ``core.person``, each changed field by
    its label with old → new values (choices by their labels, foreign keys by the record's name,
    masked values as stored), and each kept fact by its label with codes replaced by names."""
    model = _model_of(event.target_type)
    lines: list[AuditLine] = []
    changes = event.changes or {}
    for key, pair in (changes.get("fields") or {}).items():
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        field = _field_of(model, key)
        label = str(field.verbose_name) if field is not None else key
        resolve = _FIELD_VALUES.get((event.target_type, key))
        if resolve is not None:
            lines.append(AuditLine(label, _named(resolve, new), _named(resolve, old)))
            continue
        lines.append(AuditLine(label, _field_value(field, new), _field_value(field, old)))
    for key, value in (changes.get("detail") or {}).items():
        label = _DETAIL_LABELS.get(key)
        lines.append(AuditLine(str(label) if label is not None else key, _detail_value(key, value)))
    return AuditDescription(target_type_name(event.target_type), tuple(lines))


def target_type_name(label: str) -> str:
    """The verbose name of the model ``label`` names (``core.person`` → 人员); the label itself for a
    model this node no longer has."""
    model = _model_of(label)
    return str(model._meta.verbose_name) if model is not None else label


def _model_of(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label) if label else None
    except (LookupError, ValueError):
        return None


def _field_of(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    for field in model._meta.concrete_fields:
        if key in (field.attname, field.name):
            return field
    return None


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list | tuple):
        return "、".join(_plain(item) for item in value)
    return str(value)


def _field_value(field: models.Field[Any, Any] | None, value: Any) -> str:
    if field is None or value is None or value == "":
        return _plain(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation and field.related_model is not None:
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else f"#{value}"
    return _plain(value)


def _named(resolve: Callable[[Any], str], value: Any) -> str:
    return _plain(value) if value is None or value == "" else resolve(value)


def _detail_value(key: str, value: Any) -> str:
    resolve = _DETAIL_VALUES.get(key)
    if resolve is not None and value not in (None, ""):
        return resolve(value)
    return _plain(value)


def _role_name(code: Any) -> str:
    from .models import Role

    return Role.objects.filter(code=code).values_list("name", flat=True).first() or str(code)


def _organization_name(code: Any) -> str:
    from .models import Organization

    return Organization.objects.filter(code=code).values_list("name", flat=True).first() or str(code)


def _attempt_name(value: Any) -> str:
    return {"grant": _("授予角色"), "revoke": _("撤销角色")}.get(str(value), str(value))


def node_name(node_id: Any) -> str:
    """This node's name for its own id; other nodes' ids as they are until the app that knows the
    region group's registry names them (``register_detail("from", …)``)."""
    return settings.XIETONG_NODE_NAME if str(node_id) == settings.XIETONG_NODE_ID else str(node_id)


_DETAIL_VALUES.update(
    role=_role_name, organization=_organization_name, attempt=_attempt_name, **{"from": node_name}
)
