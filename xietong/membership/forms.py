"""Forms of the membership app: they check shapes; the actions check meaning."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xietong.core.forms import BootstrapFormMixin, date_input, set_queryset
from xietong.core.models import Employer, Organization

from . import desk
from .choices import Benefit
from .models import ServicePoint


class JoinForm(BootstrapFormMixin, forms.Form):
    """The worker's join form on a phone: four fields and consent."""

    name = forms.CharField(label=_("姓名"), max_length=64)
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone_number = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    employer_name = forms.CharField(label=_("工作单位"), max_length=200)
    consent = forms.BooleanField(label=_("我已阅读并同意上述个人信息处理规则"), required=False)


class JoinStatusForm(BootstrapFormMixin, forms.Form):
    """The phone number given when applying: the status page shows the outcome only to its holder."""

    phone_number = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class JoinFindForm(BootstrapFormMixin, forms.Form):
    """The look-up of an application by ID number and phone, for a worker who lost the status link."""

    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone_number = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class RejectForm(BootstrapFormMixin, forms.Form):
    """Why an application is not approved (the worker reads it)."""

    reason = forms.CharField(label=_("不通过原因"), max_length=200, required=False)


class OutreachEventForm(BootstrapFormMixin, forms.Form):
    """A new outreach event."""

    organization = forms.ModelChoiceField(label=_("主办工会"), queryset=Organization.objects.none())
    title = forms.CharField(label=_("活动名称"), max_length=120)
    held_on = forms.DateField(label=_("日期"), widget=date_input())

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)


class VerifyForm(BootstrapFormMixin, forms.Form):
    """A service point desk checks a card: the QR code (camera or scanner gun into ``token``), or the
    card number typed by hand with the last four characters of the member's ID number."""

    token = forms.CharField(
        label=_("会员卡二维码"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
        help_text=_("用扫码枪扫描，或点“用摄像头扫码”"),
    )
    card_number = forms.CharField(
        label=_("卡号"),
        required=False,
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    id_last4 = forms.CharField(
        label=_("身份证号码后四位"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "size": 6}),
    )
    service_point = forms.ModelChoiceField(label=_("服务点"), queryset=ServicePoint.objects.none())
    benefit = forms.ChoiceField(label=_("普惠服务"), choices=Benefit.choices)

    def __init__(self, *args: Any, service_points: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["service_point"], service_points)
        # Benefit items another app keeps for these desks (``desk.register``) come first.
        items = desk.choices(service_points)
        if items:
            field = self.fields["benefit"]
            field.choices = [(_("普惠服务项目"), items), (_("用卡类型"), list(Benefit.choices))]  # type: ignore[attr-defined]
            field.initial = field.initial or items[0][0]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        token, number, last4 = (cleaned.get(k, "").strip() for k in ("token", "card_number", "id_last4"))
        if not token and not number:
            raise forms.ValidationError(_("请扫描会员电子卡上的二维码，或输入卡号"))
        if not token and not last4:
            self.add_error("id_last4", _("手工输入卡号时，请同时输入会员身份证号码后四位"))
        return cleaned

    @property
    def by_number(self) -> bool:
        """Whether the desk typed a card number rather than scanning a QR code."""
        return not self.cleaned_data.get("token", "").strip()


class ImportForm(BootstrapFormMixin, forms.Form):
    """Upload a member roll file (.xlsx or .csv) into one of the user's unions."""

    organization = forms.ModelChoiceField(label=_("导入到工会"), queryset=Organization.objects.none())
    file = forms.FileField(label=_("名册文件（.xlsx 或 .csv，UTF-8 或 GBK）"))
    skip_invalid = forms.BooleanField(label=_("跳过有误的行，只导入无误的行"), required=False)
    dry_run = forms.BooleanField(label=_("只校验，不导入"), required=False)
    issue_cards = forms.BooleanField(label=_("为新增会员发放互助服务卡"), required=False)

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)

    def clean_file(self) -> Any:
        from django.conf import settings

        upload = self.cleaned_data["file"]
        suffix = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if suffix not in ("xlsx", "csv"):
            raise forms.ValidationError(_("请上传 .xlsx 或 .csv 文件"))
        limit = settings.XIETONG_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(_("文件超过 %(limit)d MB，请拆分后导入") % {"limit": limit})
        return upload


class TransferForm(BootstrapFormMixin, forms.Form):
    """Where a member moves to."""

    to_organization = forms.ModelChoiceField(label=_("转入工会"), queryset=Organization.objects.none())

    def __init__(self, *args: Any, unions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["to_organization"], unions)


class LinkEmployerForm(BootstrapFormMixin, forms.Form):
    """The registered employer an officer links a member to (for the name typed when joining)."""

    employer = forms.ModelChoiceField(label=_("已登记的工作单位"), queryset=Employer.objects.none())

    def __init__(self, *args: Any, employers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["employer"], employers)
