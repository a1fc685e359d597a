"""12351 service requests (12351 职工服务热线): configurable categories with their time limits, the
request itself with its thread, and the knowledge base of standard answers."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models.base import BaseModel

from ..choices import Channel, EntryKind, RequestStatus


class ServiceCategory(BaseModel):
    """A kind of request (政策咨询, 法律援助 …) with its time limits in working days: acknowledge
    within ``acknowledge_days`` (default 1), answer within ``answer_days`` (default 5). Node-wide
    reference data; the nine defaults come with migration 0002."""

    scope_field: ClassVar[str | None] = None

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=32, unique=True)
    acknowledge_days = models.PositiveSmallIntegerField(_("签收时限（工作日）"), default=1)
    answer_days = models.PositiveSmallIntegerField(_("答复时限（工作日）"), default=5)
    legal_aid = models.BooleanField(_("可转法律援助"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("服务类别")
        verbose_name_plural = _("服务类别")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class ServiceRequest(BaseModel):
    """One worker's request, however it came in (hotline, portal, walk-in, web).

    ``organization`` is the union responsible for it: the worker's union (membership) or, for a
    non-member, the union of the employer's or the caller's district; officers may reassign it
    within their scope. A request handed to another node keeps its ``uid`` there; ``handled_by``
    names that node here and ``origin_node`` names the origin there, and the other node's
    acknowledgement and answer travel back (``services.messages``). ``acknowledge_due`` and
    ``answer_due`` come from the category's limits in working days; an overdue request is
    escalated once to the parent union (``escalated_to``).
    """

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        RequestStatus.NEW: (RequestStatus.ACKNOWLEDGED, RequestStatus.ANSWERED, RequestStatus.HANDED_OVER),
        RequestStatus.ACKNOWLEDGED: (RequestStatus.ANSWERED, RequestStatus.HANDED_OVER),
        RequestStatus.HANDED_OVER: (RequestStatus.ACKNOWLEDGED, RequestStatus.ANSWERED),
        RequestStatus.ANSWERED: (RequestStatus.CLOSED, RequestStatus.ACKNOWLEDGED),
    }
    OPEN: ClassVar[tuple[str, ...]] = (RequestStatus.NEW, RequestStatus.ACKNOWLEDGED)

    uid = models.CharField(_("工单编号"), max_length=32, unique=True, editable=False)
    number = models.CharField(_("受理号"), max_length=32, db_index=True, editable=False)
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("承办工会"),
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    category = models.ForeignKey(ServiceCategory, verbose_name=_("类别"), on_delete=models.PROTECT)
    subject = models.CharField(_("事由"), max_length=120)
    description = models.TextField(_("诉求内容"))
    status = models.CharField(
        _("状态"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.NEW
    )
    # Who asks
    requester_name = models.CharField(_("职工姓名"), max_length=64)
    requester_phone_cipher = models.TextField(_("联系电话（密文）"), blank=True, editable=False)
    requester_phone_index = models.CharField(_("联系电话索引"), max_length=64, blank=True, editable=False)
    requester_phone_masked = models.CharField(_("联系电话"), max_length=16, blank=True, editable=False)
    member = models.ForeignKey(
        "membership.Member",
        verbose_name=_("会员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    requester_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_requests_filed",
    )
    employer_name = models.CharField(_("工作单位"), max_length=128, blank=True)
    district = models.ForeignKey(
        "core.Region", verbose_name=_("所在区县"), on_delete=models.PROTECT, null=True, blank=True
    )
    station = models.ForeignKey(
        "services.ServiceStation",
        verbose_name=_("受理站点"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
    )
    # A hotline call: who took it and how long it lasted
    call_taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接听话务员"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_calls_taken",
    )
    call_seconds = models.PositiveIntegerField(_("通话时长（秒）"), null=True, blank=True)
    # Limits, answer, closure
    acknowledge_due = models.DateField(_("签收时限"))
    answer_due = models.DateField(_("答复时限"))
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answer = models.TextField(_("答复意见"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度（1–5）"), null=True, blank=True)
    satisfaction_comment = models.CharField(_("评价意见"), max_length=300, blank=True)
    followup_due = models.BooleanField(_("需回访"), default=False)
    followup_note = models.TextField(_("回访记录"), blank=True)
    followup_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        "core.Organization",
        verbose_name=_("逾期督办单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_service_requests",
    )
    escalated_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    # Between nodes
    handled_by = models.SlugField(_("转交节点"), max_length=32, blank=True)
    origin_node = models.SlugField(_("来源节点"), max_length=32, blank=True)

    audit_exclude = ("requester_phone_cipher", "requester_phone_index")

    class Meta:
        verbose_name = _("服务诉求")
        verbose_name_plural = _("服务诉求")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def waits_here(self) -> bool:
        """Whether this node owes the next step (not handed to another node, not finished)."""
        return self.status in self.OPEN


class RequestEntry(BaseModel):
    """One line of a request's thread: a reply the worker reads, an internal note, or a record of a
    step (assigned, handed over, escalated). An attachment (size and type checked by the action) may
    go with a reply or a note."""

    scope_field: ClassVar[str | None] = "request__organization"

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="entries"
    )
    kind = models.CharField(_("类别"), max_length=8, choices=EntryKind.choices)
    text = models.TextField(_("内容"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    author_name = models.CharField(_("记录人"), max_length=64, blank=True)
    attachment = models.FileField(_("附件"), upload_to="services/", blank=True)
    attachment_name = models.CharField(_("附件名称"), max_length=120, blank=True)
    attachment_size = models.PositiveIntegerField(_("附件大小（字节）"), default=0)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.text[:30]}"


class KnowledgeAnswer(BaseModel):
    """A standard answer (policy Q&A) officers search and insert into replies; a ``public`` one is
    shown to workers before they file a request."""

    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("编写单位"),
        on_delete=models.PROTECT,
        related_name="knowledge_answers",
    )
    category = models.ForeignKey(ServiceCategory, verbose_name=_("类别"), on_delete=models.PROTECT)
    question = models.CharField(_("问题"), max_length=200)
    answer = models.TextField(_("标准答复"))
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    public = models.BooleanField(_("向职工公开"), default=True)

    class Meta:
        verbose_name = _("知识库答复")
        verbose_name_plural = _("知识库答复")
        ordering = ["category__order", "question"]

    def __str__(self) -> str:
        return self.question
