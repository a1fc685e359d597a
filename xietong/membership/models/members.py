"""Members: a person's membership of a union (实名制会员)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xietong.core.models import BaseModel

from ..choices import MemberSource, MemberStatus


class Member(BaseModel):
    """A person's membership of one union, with a membership number and a status.

    A person holds at most one current (active or suspended) membership on a node; moving to
    another union is a transfer, never a second membership. Personal data stays on ``Person``.
    """

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        MemberStatus.ACTIVE: (MemberStatus.SUSPENDED, MemberStatus.LEFT, MemberStatus.DECEASED),
        MemberStatus.SUSPENDED: (MemberStatus.ACTIVE, MemberStatus.LEFT, MemberStatus.DECEASED),
        MemberStatus.LEFT: (MemberStatus.ACTIVE,),
        MemberStatus.DECEASED: (),
    }

    person = models.ForeignKey(
        "core.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="memberships"
    )
    organization = models.ForeignKey(
        "core.Organization", verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="members"
    )
    employer = models.ForeignKey(
        "core.Employer",
        verbose_name=_("工作单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    # The employer as the worker typed it when joining (or as imported), kept when no registered
    # employer matched so that an officer can link one later.
    employer_name = models.CharField(
        _("填写的工作单位"), max_length=200, blank=True, default="", db_default=""
    )
    number = models.CharField(_("会员编号"), max_length=20, editable=False)
    status = models.CharField(_("会籍状态"), max_length=12, choices=MemberStatus.choices, default="active")
    joined_on = models.DateField(_("入会日期"))
    left_on = models.DateField(_("退会日期"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=12, choices=MemberSource.choices, default="manual")

    class Meta:
        ordering = ["-joined_on", "-pk"]
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        # Moving a member to another union is its own right, not every member editor's.
        permissions = [("transfer_member", _("办理会员关系转接"))]
        # The roll's default order, so its first and last pages read an index, not a sort (issue 16).
        indexes = [models.Index(fields=["joined_on", "id"], name="member_joined_on_id")]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="membership_member_number_unique"),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["active", "suspended"]),
                name="membership_one_current_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name}（{self.number}）"
