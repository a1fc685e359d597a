"""Pages and endpoints of the exchange: the inbox other nodes deliver to, the registry the hub
serves, the operator page and the message log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xietong.core import selectors as core_selectors
from xietong.core.generic import (
    ScopedListView,
    acting_user,
    perform_action,
    permission_required_scoped,
    public,
)

from . import actions, filters, selectors
from .forms import NodeEntryForm
from .templatetags.exchange_times import local_created


@public
@csrf_exempt
@require_POST
def inbox(request: HttpRequest) -> JsonResponse:
    """Where other nodes deliver messages (authenticated by signature, not by session)."""
    try:
        raw = request.body
    except RequestDataTooBig:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        answer = actions.refuse_delivery(
            b"", f"消息过大：{size} 字节", status=400, remote_addr=request.META.get("REMOTE_ADDR")
        )
        return JsonResponse(answer.payload, status=answer.status, json_dumps_params={"ensure_ascii": False})
    answer = actions.receive(raw, remote_addr=request.META.get("REMOTE_ADDR"))
    return JsonResponse(answer.payload, status=answer.status, json_dumps_params={"ensure_ascii": False})


# The largest upload request a peer may send (a chunk is ``XIETONG_EXCHANGE_CHUNK_MB``, 8 MB by default).
MAX_CHUNK_BYTES = 64 * 1024 * 1024


@public
@csrf_exempt
@require_http_methods(["GET", "POST"])
def file_transfer(request: HttpRequest, message_id: str, name: str) -> JsonResponse:
    """Where a peer uploads the files of a message it sent here, chunk by chunk (signed by the node
    key, not by session): ``GET`` answers how many bytes are held, ``POST`` writes one chunk (ADR 017)."""
    headers = {key: request.headers.get(f"X-Xietong-{key.title()}", "") for key in actions.FILE_HEADERS}
    size = int(request.META.get("CONTENT_LENGTH") or 0)
    if size > MAX_CHUNK_BYTES:
        answer = actions.refuse_delivery(
            b"",
            _("上传分块过大：%(size)s 字节，上限 %(limit)s 字节") % {"size": size, "limit": MAX_CHUNK_BYTES},
            status=400,
            sender=headers["sender"],
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
    else:
        # Read from the stream: ``request.body`` stops at DATA_UPLOAD_MAX_MEMORY_SIZE.
        data = request.read(size) if request.method == "POST" else b""
        answer = actions.file_receive(
            method=str(request.method),
            message_id=message_id,
            name=name,
            headers=headers,
            data=data,
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
    return JsonResponse(answer.payload, status=answer.status, json_dumps_params={"ensure_ascii": False})


@public
@require_GET
def registry(request: HttpRequest) -> JsonResponse:
    """The newest node registry held here, with the hub's signature (public: it holds no secrets)."""
    current = selectors.registry()
    if current is None:
        return JsonResponse(
            {"error": "本节点尚无节点名册"}, status=404, json_dumps_params={"ensure_ascii": False}
        )
    return JsonResponse(
        {
            "document": current.document,
            "signature": current.signature,
            "handover_signature": current.handover_signature,
        },
        json_dumps_params={"ensure_ascii": False},
    )


# The operator's right is node-wide: the exchange has no organisation to scope it by.
OPERATE = "exchange.operate_exchange"


@permission_required_scoped(OPERATE)
def operations(request: HttpRequest) -> HttpResponse:
    """The operator page: the PII key rotation's progress (``keys rotate-pii``); each peer's state
    (reachable, or failing since the streak's first failure),
    queue and its age (a warning past ``XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES``), the last error (shown
    as past once a later delivery succeeded); messages received and not yet applied (with the error
    of a failed application); refused deliveries; on the hub, registering and revoking nodes. Times
    in the node's time zone."""
    form = NodeEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        entry = form.cleaned_data["entry"]
        if perform_action(
            request,
            lambda: actions.node_register(acting_user=acting_user(request), **entry),
            lambda node: _("已登记节点并签发新版名册：%(node)s") % {"node": node},
        ):
            return redirect("exchange:operations")
    rotation = core_selectors.pii_key_rotation_latest()
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == "job-progress" and rotation is not None:  # the key rotation's bar polls
        return render(request, "_partials/job_progress.html", {"job": rotation})
    peers = selectors.peers(user=request.user)
    context = {
        "key_rotation": rotation,
        "node_form": form if selectors.is_hub() else None,
        "peers": peers,
        "processes": selectors.node_processes(user=request.user),
        "stale": [peer for peer in peers if peer.stale],
        "alert_minutes": settings.XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES,
        "refused": selectors.refused_deliveries(user=request.user)[:20],
        "transfers": selectors.file_transfers(user=request.user)[:20],
        "inbox": selectors.inbox_queue(user=request.user)[:50],
        "registry": selectors.registry(),
    }
    template = (
        "exchange/_partials/peers.html" if getattr(request, "htmx", False) else "exchange/operations.html"
    )
    return render(request, template, context)


@require_POST
@permission_required_scoped(OPERATE)
def node_revoke(request: HttpRequest, node_id: str) -> HttpResponse:
    """The hub revokes a node: a new registry version is signed; peers stop trusting it."""
    node = get_object_or_404(selectors.registered_nodes(), node_id=node_id)
    perform_action(
        request,
        lambda: actions.node_revoke(node=node, acting_user=acting_user(request)),
        lambda _node: _("已吊销节点：%(node)s") % {"node": node},
    )
    return redirect("exchange:operations")


class MessageListView(ScopedListView):
    """The message log of this node (both directions), searchable by kind, node or message id."""

    permission = OPERATE
    template_name = "exchange/message_list.html"
    export_columns = (
        ("方向", "get_direction_display"),
        ("序号", "seq"),
        ("发送节点", "sender"),
        ("接收节点", "receiver"),
        ("类型", "kind"),
        ("状态", "get_status_display"),
        ("生成时间", lambda message: local_created(message.created)),
        ("投递次数", "attempts"),
        ("拒绝原因", "reason"),
        ("最近错误", "last_error"),
        ("摘要", "hash"),
    )
    export_filename = "exchange-messages.xlsx"

    filterset_class = filters.MessageFilter

    def get_queryset(self) -> Any:
        return selectors.messages(user=self.request.user)
