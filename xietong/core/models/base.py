"""Base classes every Xietong model builds on: timestamps, snapshots for the audit log, scoped querysets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import JobStatus

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
    """Abstract base of long work done in the background (ARCHITECTURE.md §3.11): an import, a
    comparison run. The row is the job: who started it, where it stands, how far it has got, what it
    says, when it finished; the page polls it.

    - ``status`` moves as data through ``TRANSITIONS`` (queued → running → done | failed), only by
      ``xietong.core.jobs.job_transition``. A job with phases (checking, then writing) stays
      ``running`` and says which phase it is in: ``message`` holds the phase while the job runs and
      what came of it once it has finished, so a subclass adds no statuses.
    - ``progress_fields`` names the subclass's own counters of work done and work to do (rows
      checked of rows read …) that ``jobs.job_progress`` writes and the progress bar shows;
      ``progress_text`` says what they count.
    - ``runner`` is the dotted path of the action that does the work, ``runner(job=job)``; the one
      task ``xietong.core.tasks.run_job`` calls it once the job has been queued with
      ``jobs.job_enqueue`` and marks the job failed if it raises.

    - A job whose outcome arrives after its work has ended (a certification run: sent, then waiting
      for the partners' comparisons) ends ``done`` and keeps the waiting as data of its own,
      overriding ``polling`` and ``status_label`` so that the page keeps polling and tells the truth.
    """

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "queued": ("running", "failed"),
        "running": ("done", "failed"),
    }
    FINISHED: ClassVar[tuple[str, ...]] = ("done", "failed")
    runner: ClassVar[str] = ""
    progress_fields: ClassVar[tuple[str, str] | None] = None
    progress_text: ClassVar[Any] = _("已处理 %(done)s / %(total)s")
    detail_template: ClassVar[str] = ""  # shown under the bar by the progress partial, if any
    # What a job says when the worker running it died (killed, out of memory, the machine went
    # down): ``jobs.jobs_fail_abandoned`` marks it failed with these words.
    interrupted_message: ClassVar[Any] = _(
        "后台处理进程意外中断，任务未完成（未提交的写入已撤销），可重新提交"
    )
    # Work that can simply start over (a comparison whose answer is sent once, by idempotency key)
    # is queued again up to this many times when its worker dies, before it fails; its
    # ``TRANSITIONS`` must then allow running → queued.
    requeue_when_abandoned: ClassVar[int] = 0
    # The dotted path of an action called with the job once it has failed that way, for work whose
    # failure someone else waits on (a partner's run): ``action(job=job)``, in the same transaction.
    abandoned_runner: ClassVar[str] = ""

    status = models.CharField(_("状态"), max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
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

    @property
    def finished(self) -> bool:
        """Whether the work has ended, one way or the other."""
        return self.status in self.FINISHED

    @property
    def polling(self) -> bool:
        """Whether the page should keep asking how the job stands: while it runs, and for a job whose
        outcome keeps arriving after its work has ended (a certification run waiting for partners)
        as long as it waits."""
        return not self.finished

    @property
    def status_label(self) -> str:
        """The status in words, as the progress partial and lists show it; a job that waits for
        something after its work has ended says what."""
        return str(self.get_status_display())

    def progress(self, done: int, total: int) -> int:
        """Percent for the progress bar; 100 once there is nothing more to wait for."""
        if not self.polling:
            return 100
        return min(100, int(100 * done / total)) if total else 0

    def progress_counts(self) -> tuple[int, int]:
        """Work done and work to do, read from the counters ``progress_fields`` names ((0, 0) if none)."""
        if not self.progress_fields:
            return 0, 0
        done, total = self.progress_fields
        return int(getattr(self, done)), int(getattr(self, total))

    @property
    def percent(self) -> int:
        """How far the job has got, for the progress bar."""
        return self.progress(*self.progress_counts())

    @property
    def progress_line(self) -> str:
        """The counters in words (``已校验 30 / 100 行``), or "" before the total is known."""
        done, total = self.progress_counts()
        return str(self.progress_text) % {"done": done, "total": total} if total else ""

    def result_links(self) -> list[tuple[str, str]]:
        """(label, URL) of what a finished job offers for download (an error report …); none here."""
        return []
