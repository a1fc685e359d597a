"""Pages of long lists that cost what the first page costs (issue 16).

Offset pagination reads and throws away every row before the page asked for: page 2,000 of a roll
of 12万 costs fifty times page 1. ``SeekPaginator`` answers each page from the nearest known place
instead:

- the first page and the pages near it: a plain ``LIMIT``;
- the last page and the pages near it: the same ordering reversed, then ``LIMIT`` (``page=last``);
- a page reached from another page (next, previous, the numbers around the current one): a keyset
  ("seek") condition after the last row (or before the first row) of the page the link was on,
  carried in the link as ``cursor``, then at most a few pages of ``OFFSET``.

The ordering is made total with the primary key as the last key, so rows that tie on the sort
column keep one stable order across pages. The total is counted once per filter and kept for
``XIETONG_LIST_COUNT_SECONDS`` when it is large (a new row shows in the total within that time; the
rows themselves are always current).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

#: Below this many rows a count is cheap: it is never cached, so small lists are always exact.
COUNT_CACHE_FROM = 2000

#: The query parameter that carries a page link's keyset position.
CURSOR_PARAM = "cursor"


def ordering_of(queryset: QuerySet[Any]) -> list[tuple[str, bool]] | None:
    """The queryset's ordering as (lookup, descending) pairs ending with the primary key, or
    ``None`` when it uses expressions a keyset cannot follow (those lists page by offset)."""
    query = queryset.query
    names: Sequence[Any] = (
        query.order_by or (query.get_meta().ordering if query.default_ordering else ()) or ()
    )
    keys: list[tuple[str, bool]] = []
    for name in names:
        if not isinstance(name, str) or name == "?":
            return None
        descending = name.startswith("-")
        lookup = name.lstrip("-")
        lookup = "pk" if lookup in ("id", queryset.model._meta.pk.name) else lookup
        keys.append((lookup, descending))
        if lookup == "pk":
            break
    if not keys or keys[-1][0] != "pk":
        keys.append(("pk", keys[-1][1] if keys else False))
    return keys


def _value(obj: Any, lookup: str) -> Any:
    for part in lookup.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return getattr(obj, "pk", obj) if hasattr(obj, "_meta") else obj


def _nullable(model: Any, lookup: str) -> bool:
    """Whether ``lookup`` (``person__name``) may be NULL along the way (a nullable foreign key too)."""
    if lookup == "pk":
        return False
    try:
        for part in lookup.split("__"):
            field = model._meta.get_field(part)
            if getattr(field, "null", False):
                return True
            model = field.related_model or model
    except Exception:  # not a field (an annotation): be safe
        return True
    return False


def _json(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | Decimal):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    return value


def encode_cursor(page: int, direction: str, key: list[Any]) -> str:
    """A page link's position: the page it was on, ``a``fter its last row or ``b``efore its first."""
    raw = json.dumps([page, direction, [_json(v) for v in key]], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[int, str, list[Any]] | None:
    """The position a link carries, or ``None`` if it is missing or malformed (then: offset)."""
    if not value or len(value) > 2000:
        return None
    try:
        page, direction, key = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(page, int) or direction not in ("a", "b") or not isinstance(key, list):
        return None
    return page, direction, key


def seek_condition(keys: list[tuple[str, bool]], values: list[Any], *, after: bool) -> Q:
    """Rows strictly after (or before) ``values`` in the ordering ``keys``: (a > x) or (a = x and
    b > y) … with each key's direction."""
    condition = Q()
    for position, (lookup, descending) in enumerate(keys):
        forward = after != descending
        term = Q(**{f"{lookup}__{'gt' if forward else 'lt'}": values[position]})
        for earlier, value in zip(keys[:position], values[:position], strict=True):
            term &= Q(**{earlier[0]: value})
        condition |= term
    return condition


def reversed_ordering(keys: list[tuple[str, bool]]) -> list[str]:
    return [f"{'' if descending else '-'}{lookup}" for lookup, descending in keys]


def forward_ordering(keys: list[tuple[str, bool]]) -> list[str]:
    return [f"{'-' if descending else ''}{lookup}" for lookup, descending in keys]


class SeekPage(Page):
    """A page that knows the keys of its first and last rows, to seek from them."""

    paginator: SeekPaginator

    def __init__(self, object_list: Any, number: int, paginator: SeekPaginator) -> None:
        super().__init__(object_list, number, paginator)
        keys = paginator.keys
        rows = list(object_list)
        self.first_key = [_value(rows[0], k) for k, _d in keys] if rows and keys else None
        self.last_key = [_value(rows[-1], k) for k, _d in keys] if rows and keys else None

    def query_for(self, number: int | str) -> str:
        """The query-string part (``page=…&cursor=…``) of a link from this page to page ``number``."""
        if number == "last" or number == self.paginator.num_pages:
            return "page=last"
        number = int(number)
        if number <= 1 or not self.paginator.seekable:
            return f"page={max(1, number)}"
        if number <= 1:
            return "page=1"
        if number > self.number and self.last_key is not None and None not in self.last_key:
            return f"page={number}&{CURSOR_PARAM}={encode_cursor(self.number, 'a', self.last_key)}"
        if number < self.number and self.first_key is not None and None not in self.first_key:
            return f"page={number}&{CURSOR_PARAM}={encode_cursor(self.number, 'b', self.first_key)}"
        return f"page={number}"

    def window(self, around: int = 3) -> range:
        """The page numbers shown around this one."""
        return range(max(1, self.number - around), min(self.paginator.num_pages, self.number + around) + 1)


class SeekPaginator(Paginator):
    """Django's paginator (same pages, same ``count``/``num_pages``), answering each page from the
    nearest known place (see the module's docstring). ``cursor`` is the link's position, if any."""

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, cursor: str = "", **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cursor = decode_cursor(cursor)
        self.keys = ordering_of(object_list) if isinstance(object_list, QuerySet) else None
        #: A keyset condition skips NULLs: lists sorted by a nullable column page by offset/reverse.
        self.seekable = self.keys is not None and not any(
            _nullable(object_list.model, lookup) for lookup, _d in self.keys
        )
        #: How the last page was read, for tests and the benchmark: "offset", "reverse" or "seek".
        self.strategy = ""

    @cached_property
    def count(self) -> int:
        """The total, counted once per filter: a large one is kept ``XIETONG_LIST_COUNT_SECONDS``."""
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        try:
            sql, params = queryset.order_by().query.sql_with_params()
        except Exception:  # an empty ``IN`` and the like: nothing to cache by
            return queryset.count()
        key = "listcount:" + hashlib.sha256(f"{queryset.db}|{sql}|{params!r}".encode()).hexdigest()
        cached = cache.get(key)
        if cached is not None:
            return int(cached)
        total = queryset.count()
        if total >= COUNT_CACHE_FROM:
            cache.set(key, total, settings.XIETONG_LIST_COUNT_SECONDS)
        return total

    def page(self, number: Any) -> SeekPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if top + self.orphans >= self.count:
            top = self.count
        if self.keys is None or not isinstance(self.object_list, QuerySet) or top <= bottom:
            self.strategy = "offset"
            return SeekPage(self.object_list[bottom:top], number, self)
        size = top - bottom
        ordered = self.object_list.order_by(*forward_ordering(self.keys))
        plans: list[tuple[int, str, Any]] = [(bottom, "offset", None), (self.count - top, "reverse", None)]
        if (
            self.seekable
            and self.cursor is not None
            and len(self.cursor[2]) == len(self.keys)
            and None not in self.cursor[2]
        ):
            ref, direction, key = self.cursor
            if direction == "a" and number > ref:
                plans.append(((number - ref - 1) * self.per_page, "seek-after", key))
            elif direction == "b" and number < ref:
                # pages before ``ref`` counted back from its first row: this page ends that many rows before
                plans.append(((ref - 1) * self.per_page - top, "seek-before", key))
        skip, how, key = min(plans, key=lambda plan: plan[0])
        self.strategy = how
        if how == "offset":
            rows = list(ordered[bottom:top])
        elif how == "reverse":
            rows = list(ordered.order_by(*reversed_ordering(self.keys))[skip : skip + size])[::-1]
        elif how == "seek-after":
            rows = list(ordered.filter(seek_condition(self.keys, key, after=True))[skip : skip + size])
        else:
            before = ordered.filter(seek_condition(self.keys, key, after=False))
            rows = list(before.order_by(*reversed_ordering(self.keys))[skip : skip + size])[::-1]
        return SeekPage(rows, number, self)
