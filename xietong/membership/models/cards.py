"""The mutual-aid service card (互助服务卡), the partner service points that accept it, and its uses."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from xietong.core.models import BackgroundJob, BaseModel

from ..choices import Benefit, CardStatus, ServicePointKind


class MemberCard(BaseModel):
    """A member's card. One active card per member; a replaced or lost card stays for history.

    The phone shows a QR code carrying a short-lived token signed with the node's Ed25519 key, so a
    service point can check it offline with the node's public key; online checks also see the
    card's status, so a card reported lost stops verifying at once.
    """

    scope_field: ClassVar[str | None] = "member__organization"
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        CardStatus.ACTIVE: (CardStatus.SUSPENDED, CardStatus.LOST, CardStatus.REPLACED),
        CardStatus.SUSPENDED: (CardStatus.ACTIVE, CardStatus.LOST, CardStatus.REPLACED),
        CardStatus.LOST: (CardStatus.REPLACED,),
        CardStatus.REPLACED: (),
    }

    member = models.ForeignKey(
        "membership.Member", verbose_name=_("会员"), on_delete=models.PROTECT, related_name="cards"
    )
    number = models.CharField(_("卡号"), max_length=20, unique=True, editable=False)
    status = models.CharField(_("状态"), max_length=12, choices=CardStatus.choices, default=CardStatus.ACTIVE)
    issued_on = models.DateField(_("发卡日期"))
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("补换自"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )

    class Meta:
        ordering = ["-issued_on", "-pk"]
        verbose_name = _("互助服务卡")
        verbose_name_plural = _("互助服务卡")
        permissions = [("verify_membercard", _("在服务点核验会员卡"))]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(status="active"), name="card_one_active_per_member"
            )
        ]

    def __str__(self) -> str:
        return self.number


class ServicePoint(BaseModel):
    """A partner that accepts the card (a hospital registration desk, a park gate, a service station).

    Its staff sign in with accounts listed in ``accounts`` and can only verify cards and record uses.
    """

    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("合作工会"),
        on_delete=models.PROTECT,
        related_name="service_points",
    )
    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类型"), max_length=20, choices=ServicePointKind.choices)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    benefits = models.JSONField(_("提供的普惠服务"), default=list)
    accounts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("服务点账号"), blank=True, related_name="service_points"
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("服务点")
        verbose_name_plural = _("服务点")

    def __str__(self) -> str:
        return self.name


class CardUse(BaseModel):
    """One use of a card at a service point: who, where, when, which benefit.

    ``token_id`` is the scanned token's unique id: a token is accepted once, so a photographed QR code
    cannot be replayed.
    """

    scope_field: ClassVar[str | None] = "card__member__organization"

    card = models.ForeignKey(MemberCard, verbose_name=_("卡"), on_delete=models.PROTECT, related_name="uses")
    service_point = models.ForeignKey(
        ServicePoint, verbose_name=_("服务点"), on_delete=models.PROTECT, related_name="uses"
    )
    benefit = models.CharField(_("普惠服务"), max_length=24, choices=Benefit.choices)
    token_id = models.CharField(_("令牌编号"), max_length=32, unique=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("核验人"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("用卡记录")
        verbose_name_plural = _("用卡记录")

    def __str__(self) -> str:
        return f"{self.card} @ {self.service_point}"


class CardPrintJob(BackgroundJob):
    """A print sheet of an organisation's active physical cards too long to build while the officer
    waits (a thousand cards take seconds): built in the background with progress, then downloaded.

    The PDF carries every card's signed credential, so it lives under ``MEDIA_ROOT/card-prints/`` and
    is served only through the scoped, audited download. ``actions.card_print_run`` builds it.
    """

    runner = "xietong.membership.actions.card_print_run"
    progress_fields = ("printed_cards", "total_cards")
    progress_text = _("已生成 %(done)s / %(total)s 张")

    organization = models.ForeignKey(
        "core.Organization", verbose_name=_("工会"), on_delete=models.PROTECT, related_name="card_print_jobs"
    )
    title = models.CharField(_("标题"), max_length=200)
    total_cards = models.PositiveIntegerField(_("卡数"), default=0)
    printed_cards = models.PositiveIntegerField(_("已生成"), default=0)
    file = models.FileField(_("打印文件"), upload_to="card-prints/", blank=True)

    class Meta(BackgroundJob.Meta):
        verbose_name = _("实体卡打印")
        verbose_name_plural = _("实体卡打印")

    def __str__(self) -> str:
        return self.title

    def result_links(self) -> list[tuple[str, str]]:
        """The PDF, once built."""
        if not self.file:
            return []
        label = gettext_now("下载打印文件（%(count)s 张）") % {"count": self.printed_cards}
        return [(label, reverse("membership:card_print_file", args=[self.pk]))]
