"""Base classes every Xietong model builds on: timestamps, snapshots for the audit log, scoped querysets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .accounts import User


class RestrictedQuerySet(models.QuerySet):
    """A queryset that can narrow itself to what a user may see (NetBox's ``RestrictedQuerySet``).

    ``Model.objects.restrict(user, "view")`` keeps the rows whose organisation lies in a subtree where
    the user holds a role granting ``<app>.<action>_<model>``. A node-wide grant keeps everything;
    no grant keeps nothing. Each model says where its organisation is with ``scope_field``; a
    model owned by two organisations (a transfer's sending and receiving unions) passes ``lookup``.
    """

    def restrict(
        self, user: User | AnonymousUser | None, action: str = "view", *, lookup: str | None = None
    ) -> Self:
        from xietong.core.permissions import scope_paths

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        model = self.model
        # ``action`` is "view", "change" … or a full permission name such as "core.manage_accounts".
        perm = action if "." in action else f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        paths = scope_paths(user, perm)
        if paths is None:  # node-wide grant
            return self
        if not paths:
            return self.none()
        lookup = lookup or model.scope_lookup()  # type: ignore[attr-defined]
        condition = Q()
        for path in paths:
            condition |= Q(**{f"{lookup}__startswith": path})
        return self.filter(condition)


class CleanTextMixin:
    """``full_clean`` refuses control characters in every ``CharField`` and ``TextField`` (tab and
    line breaks allowed in a ``TextField``), with the field named in the Chinese message. Every
    action validates with ``full_clean``, so pages, API and imports share this one check."""

    def clean_fields(self, exclude: Any = None) -> None:
        from django.core.exceptions import ValidationError

        from xietong.core.validators import refuse_control_characters

        errors: dict[str, list[Any]] = {}
        try:
            super().clean_fields(exclude=exclude)  # type: ignore[misc]  # mixed into a Model
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for field in self._meta.concrete_fields:  # type: ignore[attr-defined]  # mixed into a Model
            if (exclude and field.name in exclude) or field.name in errors:
                continue
            if not isinstance(field, models.CharField | models.TextField):
                continue
            try:
                refuse_control_characters(
                    getattr(self, field.attname),
                    label=str(field.verbose_name),
                    multiline=isinstance(field, models.TextField),
                )
            except ValidationError as exc:
                errors.setdefault(field.name, []).extend(exc.error_list)
        if errors:
            raise ValidationError(errors)


class BaseModel(CleanTextMixin, models.Model):
    """Abstract base of domain models: creation and change times, scoping and audit snapshots.

    ``scope_field`` names the foreign key (or chain of them, Django lookup syntax) that leads to the
    ``Organization`` owning the row; ``None`` means the model is not scoped (reference data).
    """

    scope_field: ClassVar[str | None] = "organization"
    audit_exclude: ClassVar[tuple[str, ...]] = ()

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def scope_lookup(cls) -> str:
        """The lookup of the owning organisation's materialised path, e.g. ``organization__path``."""
        if cls.scope_field is None:
            raise TypeError(f"{cls.__name__} is not scoped by organisation")
        return f"{cls.scope_field}__path" if cls.scope_field else "path"

    def scope_path(self) -> str | None:
        """The materialised path of the organisation that owns this row."""
        if self.scope_field is None:
            return None
        target: Any = self
        for part in self.scope_field.split("__") if self.scope_field else []:
            target = getattr(target, part, None)
            if target is None:
                return None
        return target.path

    def snapshot(self) -> dict[str, Any]:
        """The row's concrete field values as JSON-safe data, for before/after pairs in the audit log."""
        data: dict[str, Any] = {}
        for field in self._meta.concrete_fields:
            if field.name in self.audit_exclude or field.name in {"created_at", "updated_at"}:
                continue
            value = field.value_from_object(self)
            data[field.attname] = value if isinstance(value, str | int | float | bool | None) else str(value)
        return data


class BackgroundJob(BaseModel):
    """Abstract base of work done in the background with its progress on its own row (imports,
    eligibility checks): who started it, what it says, when it finished. Subclasses add ``status``;
    ``FINISHED`` names the states that end the work."""

    FINISHED: ClassVar[tuple[str, ...]] = ("done", "failed")

    message = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    def progress(self, done: int, total: int) -> int:
        """Percent for the progress bar; 100 once the work has finished."""
        if getattr(self, "status", None) in self.FINISHED:
            return 100
        return int(100 * done / total) if total else 0
