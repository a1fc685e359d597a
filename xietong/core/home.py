"""What the home page shows, filled in by the domain apps (issue 12 §2).

Core must not import a domain app (import-linter), yet the home page shows each app's work to do.
So core keeps four small registries that each domain app fills in its own ``home.py`` (found by
``discover()`` when core is ready, as Django's admin finds ``admin.py``):

- ``todo(...)``: a source of to-do counts (applications to review, transfers overdue …). Each
  source returns ``TodoItem`` rows whose ``url`` is the list filtered by the same FilterSet
  parameters, so that the count on the home page is the list's total.
- ``register_panel(...)``: a block of key figures (with a chart) rendered from the app's template.
- ``register_landing(...)``: where an account whose only role is ``role`` lands instead of the
  home page (a service-point desk on its verification screen).
- ``register_check(...)``: a periodic notification source that ``xietong notify_due`` runs (a
  transfer step due tomorrow, an exchange queue older than its threshold).
- ``notify_when_finished(...)``: the job models whose end (done or failed) notifies the account
  that started the job (``xietong.core.jobs.job_transition``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.module_loading import autodiscover_modules

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .filters import ListFilterSet
    from .models import BackgroundJob, User


@dataclass(frozen=True)
class TodoItem:
    """One line of the to-do list: a count that links to the list filtered the same way."""

    label: str
    count: int
    url: str
    icon: str = "check2-square"
    urgent: bool = False  # shown in red when there is something (overdue, failed)


@dataclass(frozen=True)
class TodoSource:
    key: str
    perm: str
    items: Callable[[User], Iterable[TodoItem]]
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A block of key figures: ``context(user)`` gives what ``template`` renders (``None``: nothing)."""

    key: str
    perm: str
    template: str
    context: Callable[[User], dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class Check:
    """A periodic notification source: ``run()`` notifies and returns how many it notified."""

    key: str
    run: Callable[[], int]


@dataclass(frozen=True)
class JobNotice:
    """How the end of a kind of job is announced: its words (``%(job)s`` is the job) and its link."""

    done: Any
    failed: Any
    link: Callable[[Any], str] = field(default=lambda job: "")


_todos: dict[str, TodoSource] = {}
_panels: dict[str, Panel] = {}
_landings: dict[str, str] = {}
_checks: dict[str, Check] = {}
_job_notices: dict[str, JobNotice] = {}


def todo(*, key: str, perm: str, items: Callable[[User], Iterable[TodoItem]], order: int = 100) -> None:
    """Register a to-do source shown to accounts holding ``perm`` (anywhere). Registering the same
    ``key`` again replaces it, so re-importing a ``home.py`` never doubles a line."""
    _todos[key] = TodoSource(key, perm, items, order)


def register_panel(
    *, key: str, perm: str, template: str, context: Callable[[User], dict[str, Any] | None], order: int = 100
) -> None:
    """Register a block of key figures shown to accounts holding ``perm``."""
    _panels[key] = Panel(key, perm, template, context, order)


def register_landing(*, role: str, url_name: str) -> None:
    """An account whose only role is ``role`` (code) lands on ``url_name`` instead of the home page."""
    _landings[role] = url_name


def register_check(*, key: str, run: Callable[[], int]) -> None:
    """Register a periodic notification source for ``xietong notify_due``."""
    _checks[key] = Check(key, run)


def notify_when_finished(*, model: str, done: Any, failed: Any, link: Callable[[Any], str]) -> None:
    """Notify the account that started a job of ``model`` (``"membership.MemberImport"``) when it ends."""
    _job_notices[model.lower()] = JobNotice(done, failed, link)


def list_todo(
    *,
    label: Any,
    url_name: str,
    params: dict[str, str],
    filterset: type[ListFilterSet],
    queryset: QuerySet[Any],
    url_args: tuple[Any, ...] = (),
    icon: str = "check2-square",
    urgent: bool = False,
) -> TodoItem:
    """A to-do line counted by the list's own ``filterset`` over the list's own (scoped) ``queryset``
    with ``params``, linking to the list with the same parameters: the count is the list's total."""
    count = filterset(params, queryset=queryset).qs.count()
    url = f"{reverse(url_name, args=url_args)}?{urlencode(params)}"
    return TodoItem(str(label), count, url, icon, urgent)


def discover() -> None:
    """Import every installed app's ``home`` module (called once, when core is ready)."""
    autodiscover_modules("home")


# What the pages and the command read -----------------------------------------------------------------


def todos_for(user: User) -> list[TodoItem]:
    """The to-do lines for ``user``, in the sources' order; sources whose permission it lacks are skipped."""
    lines: list[TodoItem] = []
    for source in sorted(_todos.values(), key=lambda s: (s.order, s.key)):
        if source.perm and not user.has_perm(source.perm):
            continue
        lines.extend(source.items(user))
    return lines


def panels_for(user: User) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) of each figures block ``user`` may see."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if panel.perm and not user.has_perm(panel.perm):
            continue
        context = panel.context(user)
        if context is not None:
            shown.append((panel.template, context))
    return shown


def landing_for(user: User) -> str | None:
    """The URL name where ``user`` lands instead of the home page, if all its grants are of one role
    that has a landing; ``None`` otherwise (and for superusers)."""
    if user.is_superuser:
        return None
    roles = set(user.role_assignments.values_list("role__code", flat=True))
    if len(roles) != 1:
        return None
    return _landings.get(roles.pop())


def checks() -> list[Check]:
    """The registered periodic notification sources."""
    return sorted(_checks.values(), key=lambda c: c.key)


def job_notice(job: BackgroundJob) -> JobNotice | None:
    """How the end of ``job`` is announced, or ``None`` if its kind announces nothing."""
    return _job_notices.get(job._meta.label_lower)
