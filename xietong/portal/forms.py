"""Forms of the member portal: shapes only (the actions check meaning)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xietong.core.forms import BootstrapFormMixin
from xietong.services.models import ServiceCategory


class PhoneForm(BootstrapFormMixin, forms.Form):
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": _("请输入入会时登记的手机号"),
                "autofocus": True,
            }
        ),
    )


class CodeForm(BootstrapFormMixin, forms.Form):
    """The code from the SMS (the phone number stays in the session, not in the page)."""

    code = forms.CharField(
        label=_("短信验证码"),
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]*",
                "autofocus": True,
            }
        ),
    )


class RequestForm(BootstrapFormMixin, forms.Form):
    """A member's service request (the member, the name and the phone come from the session)."""

    category = forms.ModelChoiceField(label=_("诉求类别"), queryset=ServiceCategory.objects.none())
    subject = forms.CharField(label=_("事由"), max_length=120)
    description = forms.CharField(label=_("具体情况"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args: Any, categories: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories  # type: ignore[attr-defined]


class RateForm(BootstrapFormMixin, forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[(5, _("非常满意")), (4, _("满意")), (3, _("一般")), (2, _("不满意")), (1, _("非常不满意"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("评价意见"), max_length=300, required=False)
