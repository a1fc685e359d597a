"""The member portal's sign-in code requests and one-time sign-in codes. Members hold no account:
a signed-in member is a member id in the session (``xietong.portal.session``), never a staff ``User``."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models.base import BackgroundJob, BaseModel


class SignInCode(BaseModel):
    """A code sent by SMS to a member's phone: kept as a keyed hash, valid until ``expires_at``,
    spent once used or after ``XIETONG_PORTAL_CODE_ATTEMPTS`` wrong tries. ``phone_index`` is the
    phone's blind index (the number itself is not stored here). Node-internal, not scoped."""

    scope_field: ClassVar[str | None] = None

    phone_index = models.CharField(_("手机号码索引"), max_length=64, db_index=True)
    member = models.ForeignKey(
        "membership.Member", verbose_name=_("会员"), on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    audit_exclude = ("code_hash", "phone_index")

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.member_id} {self.expires_at:%Y-%m-%d %H:%M}"


class CodeRequest(BackgroundJob):
    """One ask for a sign-in code, whatever the number: the sign-in page only records it and queues
    it, and ``actions.code_request_run`` does the rest in the background (looks the member up, saves
    a ``SignInCode`` and sends the SMS, or does nothing for a number that is no member's). The page
    thus does the same work for every number and its timing says nothing about who is a member.

    The phone is kept encrypted with its blind index only until the job runs, which clears both;
    finished requests are deleted by a later run. Node-internal, not scoped, no page of its own."""

    scope_field: ClassVar[str | None] = None
    runner = "xietong.portal.actions.code_request_run"

    phone_cipher = models.TextField(_("手机号码（密文）"), blank=True, editable=False)
    phone_index = models.CharField(_("手机号码索引"), max_length=64, blank=True, editable=False)

    audit_exclude = ("phone_cipher", "phone_index")

    class Meta(BackgroundJob.Meta):
        verbose_name = _("验证码请求")
        verbose_name_plural = _("验证码请求")

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"
