"""Forms of the core app. They only parse input; the actions validate the domain and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xietong.lib import creditcode, workdays

from . import selectors
from .models import Employer, Organization, Region, Role, User


class BootstrapFormMixin:
    """Give every widget Bootstrap's classes so forms look the same everywhere."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


def date_input() -> forms.DateInput:
    """The browser's date picker; its value must be ISO (YYYY-MM-DD) whatever the language."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def set_queryset(field: forms.Field, queryset: Any) -> None:
    """Narrow a model-choice field to the given (scoped) queryset; a single choice is preselected."""
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset
    if field.initial is None and len(queryset[:2]) == 1:
        field.initial = queryset[0]


class RegionCodeField(forms.CharField):
    """A GB/T 2260 code typed as six digits, resolved to a ``Region``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 6)
        kwargs.setdefault(
            "help_text", _("6位行政区划代码，例如 110101（北京市东城区）；留空则取所属组织所在地区")
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Region | None:
        code = (super().clean(value) or "").strip()
        if not code:
            return None
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise forms.ValidationError(_("行政区划代码“%(code)s”不存在") % {"code": code})
        return region


class ScopedOrganizationField(forms.ModelChoiceField):
    """An organisation picker limited to where the user may act."""

    def label_from_instance(self, obj: Organization) -> str:
        return f"{'　' * obj.depth}{obj.name}"


class EmployerForm(BootstrapFormMixin, forms.ModelForm):
    """Create or edit an employer."""

    region_code = RegionCodeField(label=_("所在地区"), required=False)

    class Meta:
        model = Employer
        fields = ["name", "credit_code", "organization", "sector"]
        field_classes = {"organization": ScopedOrganizationField}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        perm = "core.change_employer" if self.instance.pk else "core.add_employer"
        set_queryset(self.fields["organization"], selectors.organizations_for(user=user, perm=perm))
        self.fields["credit_code"].help_text = _("18位，含校验码；可留空")
        if self.instance.pk:
            self.fields["region_code"].initial = self.instance.region_id

    def clean_credit_code(self) -> str | None:
        value = (self.cleaned_data.get("credit_code") or "").strip()
        if not value:
            return None
        try:
            return creditcode.parse(value).code
        except creditcode.InvalidCreditCode as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organization = data.get("organization")
        region = data.get("region_code") or (organization.region if organization else None)
        if region is not None:
            self.instance.region = region
        return data


class PersonForm(BootstrapFormMixin, forms.Form):
    """Register a person (the action validates the ID number and refuses duplicates)."""

    name = forms.CharField(label=_("姓名"), max_length=64)
    id_number = forms.CharField(label=_("身份证号码"), max_length=32, help_text=_("18位或旧式15位，可含空格"))
    phone = forms.CharField(label=_("手机号码"), max_length=20, required=False)
    id_valid_until = forms.DateField(
        label=_("身份证有效期至"),
        required=False,
        help_text=_("留空表示长期"),
        widget=date_input(),
    )
    is_migrant_worker = forms.BooleanField(label=_("外地来京务工"), required=False)
    organization = ScopedOrganizationField(label=_("登记组织"), queryset=Organization.objects.none())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(
            self.fields["organization"], selectors.organizations_for(user=user, perm="core.add_person")
        )


class PersonLookupForm(BootstrapFormMixin, forms.Form):
    """Find one person by resident ID number."""

    id_number = forms.CharField(label=_("身份证号码"), max_length=32)


class UserCreateForm(BootstrapFormMixin, forms.Form):
    """Create an account."""

    username = forms.RegexField(
        label=_("账号"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("账号只能包含字母、数字和 @ . + - _")},
    )
    display_name = forms.CharField(label=_("姓名"), max_length=64, required=False)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, min_length=10)
    organization = ScopedOrganizationField(label=_("所属组织"), queryset=Organization.objects.none())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(
            self.fields["organization"], selectors.organizations_for(user=user, perm="core.manage_accounts")
        )


class RoleGrantForm(BootstrapFormMixin, forms.Form):
    """Grant a role at an organisation; who may grant what, where, is ``actions.role_grant``'s
    decision (node-wide grants are for node administrators only)."""

    role = forms.ModelChoiceField(label=_("角色"), queryset=Role.objects.all())
    organization = ScopedOrganizationField(
        label=_("授权范围"), queryset=Organization.objects.none(), required=False, empty_label=_("全节点")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(
            self.fields["organization"], selectors.organizations_for(user=user, perm="core.manage_accounts")
        )
        # Offer the roles this account may grant; any role parses, so that the action refuses (and
        # audits) the others instead of the form hiding the attempt (ADR 011).
        offered: list[tuple[Any, str]] = [("", "---------")]
        offered += [(role.pk, role.name) for role in selectors.grantable_roles(user=user)]
        self.fields["role"].widget.choices = offered
        self.user = user


class DaysField(forms.CharField):
    """Dates as the State Council's notice lists them: ISO dates or ranges (``2027-02-05..2027-02-11``),
    separated by commas, ``、`` or new lines; cleans to a sorted list of dates."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        try:
            return workdays.parse_days(text or "")
        except ValueError as exc:
            raise forms.ValidationError(_("无法识别的日期：%(part)s"), params={"part": str(exc)}) from None


class CalendarYearForm(BootstrapFormMixin, forms.Form):
    """A year's official holidays and make-up working days, typed from the State Council's notice."""

    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100)
    holidays = DaysField(
        label=_("放假日期"), help_text=_("逗号或换行分隔，连续假期写区间，如 2027-02-05..2027-02-11")
    )
    workdays = DaysField(label=_("调休上班日期"), required=False, help_text=_("周六或周日上班的日期"))
    source = forms.CharField(
        label=_("依据"), max_length=200, help_text=_("如 国务院办公厅关于2027年部分节假日安排的通知")
    )
