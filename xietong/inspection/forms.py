"""Forms of the inspection app: they check shapes; the actions check meaning."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xietong.core.forms import BootstrapFormMixin, date_input, set_queryset
from xietong.core.models import Organization
from xietong.lib import creditcode


class ArrearsListingForm(BootstrapFormMixin, forms.Form):
    """A labour inspection authority lists an employer for wage arrears."""

    organization = forms.ModelChoiceField(
        label=_("作出决定的劳动保障监察机构"), queryset=Organization.objects.none()
    )
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=40)
    employer_name = forms.CharField(label=_("用人单位名称"), max_length=200)
    amount_owed = forms.DecimalField(label=_("拖欠工资金额（元）"), max_digits=14, decimal_places=2)
    workers_affected = forms.IntegerField(label=_("涉及劳动者人数"), min_value=1)
    decision_no = forms.CharField(label=_("决定书文号"), max_length=100)
    listed_on = forms.DateField(label=_("列入日期"), widget=date_input(), initial=timezone.localdate)
    expires_on = forms.DateField(label=_("届满日期"), widget=date_input(), required=False)

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)


class ArrearsRemovalForm(BootstrapFormMixin, forms.Form):
    """Take a listing off the blacklist."""

    removal_reason = forms.CharField(label=_("移出原因"), max_length=200)
    removed_on = forms.DateField(label=_("移出日期"), widget=date_input(), initial=timezone.localdate)


class ArrearsCheckForm(BootstrapFormMixin, forms.Form):
    """Is an employer listed anywhere in the region group?"""

    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=40, required=False)
    name = forms.CharField(label=_("用人单位名称"), max_length=200, required=False)

    def clean_credit_code(self) -> str:
        """A code that is not a valid one is an error beside the field, never a "not listed"."""
        value = (self.cleaned_data.get("credit_code") or "").strip()
        if not value:
            return ""
        try:
            return creditcode.parse(value).code
        except creditcode.InvalidCreditCode as exc:
            attrs = {"class": "form-control is-invalid", "aria-invalid": "true"}
            self.fields["credit_code"].widget.attrs.update(attrs, **{"aria-describedby": "check-code-error"})
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.has_error("credit_code"):
            return data
        if not data.get("credit_code") and not data.get("name"):
            raise forms.ValidationError(_("请填写统一社会信用代码或用人单位名称"))
        return data
