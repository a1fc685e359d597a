"""Natural persons, with personal data encrypted at rest (ARCHITECTURE.md §3.5)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import Gender
from .base import BaseModel


class Person(BaseModel):
    """A natural person known to this node: a worker, a member, a recipient, an applicant.

    The resident ID number and the phone number are stored only encrypted (AES-GCM, key outside the
    database) next to an HMAC blind index for exact look-up and a masked form for display. Birth date,
    gender and issuing region are derived from the ID number when the person is registered. Use
    ``xietong.core.actions.person_create`` to create one: it validates, encrypts and audits.
    """

    audit_exclude = ("id_number_cipher", "phone_cipher", "id_number_index", "phone_index")

    name = models.CharField(_("姓名"), max_length=64)
    name_original = models.CharField(_("原始姓名"), max_length=64, blank=True)
    id_number_cipher = models.TextField(_("身份证号码（密文）"), editable=False)
    id_number_index = models.CharField(_("身份证号码索引"), max_length=64, editable=False)
    id_number_masked = models.CharField(_("身份证号码"), max_length=18, editable=False)
    id_valid_until = models.DateField(_("身份证有效期至"), null=True, blank=True, help_text=_("空表示长期"))
    birth_date = models.DateField(_("出生日期"))
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    id_region = models.ForeignKey(
        "core.Region",
        verbose_name=_("签发地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,  # indexed in Meta, without the text-pattern twin Django adds to a text key
    )
    phone_cipher = models.TextField(_("手机号码（密文）"), blank=True, editable=False)
    phone_index = models.CharField(_("手机号码索引"), max_length=64, blank=True, editable=False)
    phone_masked = models.CharField(_("手机号码"), max_length=16, blank=True, editable=False)
    is_migrant_worker = models.BooleanField(_("外地来京务工"), default=False)
    organization = models.ForeignKey(
        "core.Organization", verbose_name=_("登记组织"), on_delete=models.PROTECT, related_name="people"
    )
    tags = models.JSONField(_("标签"), default=list, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        permissions = [("reveal_person", _("查看完整身份证号码和手机号码"))]
        # Only the indexes that queries use: searches by name are substring searches no B-tree
        # serves, ID numbers are looked up by blind index, phones are not looked up (ADR 010).
        indexes = [models.Index(fields=["name"]), models.Index(fields=["id_region"])]
        constraints = [models.UniqueConstraint(fields=["id_number_index"], name="person_id_number_unique")]

    def __str__(self) -> str:
        return f"{self.name}（{self.id_number_masked}）"
