"""Generic staff-console views every app builds on: scoped lists with search, pagination and Excel
export, scoped detail pages, and forms that call an action. Views stay thin (ARCHITECTURE.md §3.4):
they read through a selector and write through an action.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView

from . import audit
from .choices import AuditAction
from .exports import xlsx_response
from .filters import ListFilterSet
from .models import User
from .pagination import CURSOR_PARAM, SeekPaginator

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
    from rest_framework.request import Request


ViewT = TypeVar("ViewT", bound=Callable[..., Any])


def public(view: ViewT) -> ViewT:
    """Mark a view as public on purpose: it answers without a signed-in account (the log-in page,
    the join form a QR code opens, signed messages from other nodes).

    The mark sits where the view is defined, so a reader sees it there; the URL-walk test
    (``core/tests/test_url_walk.py``) accepts a route only if its view is marked public or a generic
    scoping test covers it. A function is wrapped (so a view borrowed from Django is not altered);
    a class gets the attribute, which ``as_view()`` carries on ``view_class``.
    """
    if isinstance(view, type):
        view.xietong_public = True  # type: ignore[attr-defined]  # read by the URL-walk test
        return view

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    wrapper.xietong_public = True  # type: ignore[attr-defined]  # read by the URL-walk test
    return wrapper  # type: ignore[return-value]  # same signature as ``view``


def is_public(view: Any) -> bool:
    """Whether a URL pattern's callback carries the ``public`` mark (itself or its view class)."""
    for candidate in (view, getattr(view, "view_class", None), getattr(view, "cls", None)):
        if getattr(candidate, "xietong_public", False):
            return True
    return False


class PermissionRequiredMixin(LoginRequiredMixin):
    """A view declares what it needs (ARCHITECTURE.md §3 rule 9); the mixin decides, the view never
    calls ``has_perm`` itself.

    ``permission``: needed somewhere, else 403 (anonymous → login page). ``action``: what the request
    does to its record (``"view"``, ``"change"``, ``"reveal"`` …), handed to the app's
    ``access_<thing>`` selector set as ``access``, which answers the same 404 for a missing record
    and one outside the user's scope.
    """

    permission: ClassVar[str] = ""
    action: ClassVar[str] = "view"
    access: ClassVar[Callable[..., Any] | None] = None
    kwargs: dict[str, Any]

    def required_permission(self) -> str:
        """The permission this request needs somewhere (views may vary it, e.g. create vs edit)."""
        return self.permission

    def required_action(self) -> str:
        """The action this request performs on its record (views may vary it by method)."""
        return self.action

    def access_object(self, pk: Any) -> Any:
        """The record named by ``pk`` through the declared ``access`` selector and action (404 if
        missing, malformed or out of scope)."""
        access = type(self).access
        assert access is not None, f"{type(self).__name__} declares no access selector"
        return access(user=self.request.user, pk=pk, action=self.required_action())  # type: ignore[attr-defined]  # mixed into a View

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.kwargs = kwargs
        permission = self.required_permission()
        if permission and not request.user.has_perm(permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def permission_required_scoped(
    permission: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """The function-view form of ``PermissionRequiredMixin``: anonymous → login page, signed in
    without ``permission`` anywhere → 403; the view then loads its record through an
    ``access_<thing>`` selector, which handles scope (404)."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.permission = permission  # type: ignore[attr-defined]  # read by the URL-walk test
        return login_required(wrapped)

    return decorate


def acting_user(request: HttpRequest | Request) -> User:
    """The signed-in account of a request (a page's or the API's) that passed its permission check,
    typed for actions."""
    user = request.user
    assert user.is_authenticated, "the view's permission check lets no anonymous request through"
    return user


class HtmxTemplateMixin:
    """Render ``partial_template_name`` for htmx requests, the full page otherwise."""

    partial_template_name: ClassVar[str | None] = None
    request: HttpRequest

    def get_template_names(self) -> list[str]:
        if self.partial_template_name and getattr(self.request, "htmx", False):
            return [self.partial_template_name]
        return super().get_template_names()  # type: ignore[misc]  # mixed into a TemplateResponseMixin


class ScopedListView(PermissionRequiredMixin, HtmxTemplateMixin, ListView):
    """A searchable, filterable, sortable, paginated list of what the user may see, with Excel export
    (``?export=xlsx``) of exactly what the filters select (ADR 012).

    Subclasses set ``permission``, implement ``get_queryset`` through a selector (scoped, unfiltered)
    and name their ``filterset_class`` (a ``core.filters.ListFilterSet``, the same one the API uses);
    for export they list ``export_columns`` as (header, callable or attribute path) and an
    ``export_filename``. An export of more than ``XIETONG_EXPORT_SYNC_ROWS`` rows becomes an
    ``ExportJob`` written in the background (issue 16); pages are read by ``core.pagination``.
    """

    paginate_by = 25
    filterset_class: ClassVar[type[ListFilterSet] | None] = None
    export_columns: ClassVar[Sequence[tuple[StrOrPromise, Any]]] = ()
    export_filename: ClassVar[StrOrPromise] = "export.xlsx"
    #: Filter values a page opens with when the query string has none (``?status=`` shows all).
    filter_defaults: ClassVar[dict[str, str]] = {}
    filterset: ListFilterSet | None = None

    @property
    def q(self) -> str:
        return self.request.GET.get("q", "").strip()

    def get_paginate_by(self, queryset: QuerySet[Any]) -> int:
        try:
            size = int(self.request.GET.get("per_page", self.paginate_by))
        except ValueError:
            size = self.paginate_by
        return max(10, min(size, 200))

    def filtered(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``queryset`` narrowed and ordered by the list's filters from the query string."""
        if self.filterset_class is None:
            return queryset
        data = self.request.GET.copy()
        for key, value in self.filter_defaults.items():
            data.setdefault(key, value)
        self.filterset = self.filterset_class(data, queryset=queryset, request=self.request)
        return self.filterset.qs

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object_list = self.filtered(self.get_queryset())
        if request.GET.get("export") == "xlsx" and self.export_columns:
            return self.export()
        return self.render_to_response(self.get_context_data())

    def get_paginator(  # type: ignore[override]  # returns the subclass, which takes a cursor too
        self, queryset: Any, per_page: int, orphans: int = 0, **kwargs: Any
    ) -> SeekPaginator:
        """Pages that cost what the first page costs (``core.pagination``): the link's ``cursor``
        says where to seek from."""
        cursor = self.request.GET.get(CURSOR_PARAM, "")
        return SeekPaginator(queryset, per_page, orphans=orphans, cursor=cursor, **kwargs)

    def export_params(self) -> dict[str, str]:
        """The query string's filters, as an export records them (no paging, no ``export``)."""
        skip = {"export", "page", CURSOR_PARAM, "per_page"}
        return {key: str(value) for key, value in self.request.GET.items() if key not in skip}

    def export(self) -> HttpResponse:
        """The workbook of what the filters select: at once when it is small, otherwise an
        ``ExportJob`` written in the background, whose page shows its progress and offers the file."""
        from django.conf import settings
        from django.shortcuts import redirect

        total = self.get_paginator(self.object_list, 1).count
        if total <= settings.XIETONG_EXPORT_SYNC_ROWS:
            return export_response(
                self.request,
                self.object_list,
                self.export_columns,
                filename=self.export_filename,
                detail=self.export_params(),
            )
        from .actions import export_job_start

        job = export_job_start(
            view=f"{type(self).__module__}.{type(self).__qualname__}",
            list_path=self.request.path,
            permission=self.required_permission(),
            params=self.export_params(),
            filename=str(self.export_filename),
            target_type=self.object_list.model._meta.label_lower,  # type: ignore[attr-defined]  # a QuerySet
            total_rows=total,
            acting_user=acting_user(self.request),
        )
        return redirect("core:export_detail", pk=job.pk)

    @classmethod
    def export_source(
        cls, *, user: User, params: dict[str, str], path: str
    ) -> tuple[list[str], Iterator[list[Any]], int]:
        """What a background export writes (``core.actions.export_job_run``): the headers, the rows
        (read with ``.iterator``, a chunk at a time) and their number, of this list as ``user`` sees
        it with the filters ``params``, exactly as the page would have exported them."""
        from urllib.parse import urlencode

        from django.http import QueryDict

        request = HttpRequest()  # the list's own request, rebuilt in the worker (no client behind it)
        request.method, request.path = "GET", path
        request.GET = QueryDict(urlencode(params))  # immutable, as Django makes it
        request.user = user
        view = cls()
        view.setup(request)
        queryset = view.filtered(view.get_queryset())
        return (
            [str(header) for header, _getter in cls.export_columns],
            export_rows(queryset, cls.export_columns, user),
            queryset.count(),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        params.pop(CURSOR_PARAM, None)
        context["q"] = self.q
        context["querystring"] = params.urlencode()
        context["export_enabled"] = bool(self.export_columns)
        context["filter"] = self.filterset
        return context


class UserColumn:
    """An export column whose value depends on who exports (personal data shown by permission):
    ``("出生日期", UserColumn(lambda person, user: pii.birth_shown(user, person)))``."""

    def __init__(self, value: Callable[[Any, User], Any], *, related: Sequence[str] = ()) -> None:
        self.value = value
        #: What ``value`` reads through relations (``select_related`` lookups), read with the rows.
        self.related = tuple(related)


def export_response(
    request: HttpRequest,
    queryset: Any,
    columns: Sequence[tuple[StrOrPromise, Any]],
    *,
    filename: StrOrPromise,
    detail: dict[str, Any] | None = None,
) -> HttpResponse:
    """An .xlsx of ``queryset`` with ``columns`` (header, callable or attribute path); audited."""
    headers = [str(header) for header, _getter in columns]  # headers and name may be lazy translations
    filename = str(filename)
    user = acting_user(request)
    rows = export_rows(queryset, columns, user)
    audit.record(
        AuditAction.EXPORT,
        target_type=queryset.model._meta.label_lower,
        acting_user=user,
        detail={**(detail or {}), "filename": filename},
    )
    return xlsx_response(headers, rows, filename=filename)


def export_rows(
    queryset: Any, columns: Sequence[tuple[StrOrPromise, Any]], user: User
) -> Iterator[list[Any]]:
    """The rows of an export: each record's ``columns`` as ``user`` may see them, read from the
    database a chunk at a time so that memory does not grow with the list."""
    related = [
        lookup for _header, getter in columns if isinstance(getter, UserColumn) for lookup in getter.related
    ]
    if related and isinstance(queryset, QuerySet):
        queryset = queryset.select_related(*related)
    cells = [_cell_reader(getter, user) for _header, getter in columns]
    for obj in queryset.iterator(chunk_size=EXPORT_CHUNK):
        yield [cell(obj) for cell in cells]


def _cell_reader(getter: Any, user: User) -> Callable[[Any], Any]:
    """How one export column reads its cell from a record. A ``get_<field>_display`` path remembers
    each value's label for the export (Django rebuilds the choices on every call: a tenth of the time
    of a large export)."""
    if isinstance(getter, UserColumn):
        return lambda obj: getter.value(obj, user)
    if callable(getter) or not getter.endswith("_display"):
        return lambda obj: _resolve(obj, getter)
    *path, method = getter.split(".")
    field = method.removeprefix("get_").removesuffix("_display")
    labels: dict[tuple[type, Any], Any] = {}

    def display(obj: Any) -> Any:
        target = _resolve(obj, ".".join(path)) if path else obj
        if target in ("", None):
            return ""
        key = (type(target), getattr(target, field, None))
        if key not in labels:
            labels[key] = getattr(target, method)()
        return labels[key]

    return display


#: Rows an export reads from the database at a time.
EXPORT_CHUNK = 2000


def _resolve(obj: Any, getter: Any) -> Any:
    if callable(getter):
        return getter(obj)
    for part in getter.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return ""
        if callable(obj) and not isinstance(obj, Model):
            obj = obj()
    return obj


@dataclass(frozen=True)
class Crumb:
    """One step of a page's breadcrumbs (``_partials/breadcrumbs.html``); the last has no link."""

    label: str
    url: str = ""


def breadcrumbs(*trail: tuple[Any, str | None], current: Any) -> list[Crumb]:
    """The breadcrumbs of a detail page: ``trail`` as (label, URL name or ``None``) from the list
    down, then the record shown (``current``). Pages put them in the context as ``breadcrumbs``."""
    crumbs = [Crumb(str(label), reverse(url_name) if url_name else "") for label, url_name in trail]
    return [*crumbs, Crumb(str(current))]


class ScopedDetailView(PermissionRequiredMixin, HtmxTemplateMixin, DetailView):
    """One record, fetched through the declared ``access`` selector with the view's ``action`` (or,
    for views not yet moved to one, the subclass's ``get_queryset``): out of scope is 404.

    ``breadcrumb_trail`` names the list the record belongs to, as (label, URL name) pairs; the page
    shows it and the record as breadcrumbs (override ``get_breadcrumbs`` for a deeper trail)."""

    breadcrumb_trail: ClassVar[Sequence[tuple[Any, str | None]]] = ()

    def get_breadcrumbs(self) -> list[Crumb]:
        return breadcrumbs(*self.breadcrumb_trail, current=self.object)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("breadcrumbs", self.get_breadcrumbs())
        return context

    def get_object(self, queryset: QuerySet[Any] | None = None) -> Model:
        if type(self).access is not None and queryset is None:
            return self.access_object(self.kwargs["pk"])
        from .selectors import get_scoped

        return get_scoped(queryset if queryset is not None else self.get_queryset(), self.kwargs["pk"])


class ActionFormView(PermissionRequiredMixin, FormView):
    """A form whose valid data is handed to an action; the action's ``ValidationError`` goes back onto
    the form beside the field it names, so nothing is half-saved and the user sees why."""

    def perform(self, form: Any) -> HttpResponse:
        raise NotImplementedError

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            return self.perform(form)
        except ValidationError as exc:
            attach_errors(form, exc)
            return self.form_invalid(form)


def attach_errors(form: Any, exc: ValidationError) -> None:
    """Put an action's ``ValidationError`` onto a form, per field where the field exists."""
    if hasattr(exc, "error_dict"):
        for field_name, errors in exc.error_dict.items():
            target = field_name if field_name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


def perform_action(request: HttpRequest, call: Callable[[], Any], done: Callable[[Any], str]) -> bool:
    """Run an action for a POST view: its ``ValidationError`` becomes an error message, success a
    success message (``done`` gets the action's result). True when the action succeeded."""
    try:
        result = call()
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return False
    messages.success(request, done(result))
    return True
