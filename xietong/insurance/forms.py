"""Forms of the insurance app: they check shapes; the actions check meaning."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xietong.core.forms import BootstrapFormMixin, date_input, set_queryset
from xietong.core.models import Organization

from .choices import FindingKind, RosterKind, Scheme
from .models import BenefitRoster

# Benefit eligibility certification ---------------------------------------------------------------------

MAPPED_COLUMNS = (
    ("record_id", _("人员编号列")),
    ("name", _("姓名列")),
    ("id_number", _("身份证号码列")),
    ("birth_date", _("出生日期列")),
    ("gender", _("性别列")),
    ("event_date", _("死亡日期或待遇起始日期列")),
)


class TransferRequestForm(BootstrapFormMixin, forms.Form):
    """A worker's application at the counter of the receiving region (this node)."""

    organization = forms.ModelChoiceField(label=_("经办机构"), queryset=Organization.objects.none())
    name = forms.CharField(label=_("姓名"), max_length=64)
    id_number = forms.CharField(label=_("身份证号码"), max_length=40)
    scheme = forms.ChoiceField(label=_("险种"), choices=Scheme.choices, initial=Scheme.PENSION)
    sending_node = forms.ChoiceField(label=_("转出地"), choices=())
    sending_office = forms.CharField(
        label=_("转出地经办机构（可不填）"), max_length=200, required=False,
        help_text=_("转出地负责答复的人力资源和社会保障部门名称；不填则由转出地的上级部门分派"),
    )  # fmt: skip
    applied_on = forms.DateField(label=_("申请日期"), widget=date_input(), initial=timezone.localdate)

    def __init__(self, *args: Any, organizations: Any, peers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)
        self.fields["sending_node"].choices = [(node.node_id, node.name) for node in peers]  # type: ignore[attr-defined]


class TransferAnswerForm(BootstrapFormMixin, forms.Form):
    """The sending region's answer: the contribution record and the personal account."""

    periods = forms.CharField(
        label=_("缴费记录"),
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 8, "placeholder": "2012-03,2019-12,6200", "spellcheck": "false"}
        ),
        help_text=_(
            "每行一段：起始年月、截止年月、月缴费基数。可直接从 Excel 复制粘贴（制表符分隔），"
            "可接受的写法如：2010-01,2015-12,4000；2010-01⇥2015-12⇥4000；2010.01-2015.12⇥4000；"
            "201001⇥201512⇥4,000.00（⇥ 表示 Excel 的列分隔），首行表头会被跳过。"
            "各段不得重叠，不得晚于答复当月，不得早于该险种开始缴费的年月。"
            "统筹基金按1998年起各月缴费基数的12%计算，每月只计一次。"
        ),
    )
    personal_account = forms.DecimalField(label=_("个人账户储存额（元）"), max_digits=14, decimal_places=2)


class TransferRefuseForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("不予转移的原因"), max_length=300)


class TransferAssignForm(BootstrapFormMixin, forms.Form):
    """Hand a transfer to an HRSS office the officer may act for (the action checks the subtree)."""

    organization = forms.ModelChoiceField(label=_("交由经办机构办理"), queryset=Organization.objects.none())

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)


class RosterImportForm(BootstrapFormMixin, forms.Form):
    """Upload a roster as the bureau keeps it; headers the engine does not recognise are named here."""

    organization = forms.ModelChoiceField(label=_("经办机构"), queryset=Organization.objects.none())
    kind = forms.ChoiceField(label=_("名册类别"), choices=RosterKind.choices)
    title = forms.CharField(
        label=_("名册名称"),
        max_length=100,
        required=False,
        help_text=_("如：北京市养老金领取人员（2026年11月）"),
    )
    file = forms.FileField(label=_("名册文件（.xlsx、.csv 或 .parquet；UTF-8 或 GBK）"))

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)
        for name, label in MAPPED_COLUMNS:
            self.fields[f"column_{name}"] = forms.CharField(
                label=label, max_length=100, required=False,
                widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("自动识别")}),
            )  # fmt: skip

    def clean_file(self) -> Any:
        from django.conf import settings

        upload = self.cleaned_data["file"]
        suffix = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if suffix not in ("xlsx", "csv", "parquet"):
            raise forms.ValidationError(_("请上传 .xlsx、.csv 或 .parquet 文件"))
        if upload.size > settings.XIETONG_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("文件超过 %(limit)d MB，请拆分后导入") % {"limit": settings.XIETONG_MAX_UPLOAD_MB}
            )
        return upload

    def mapping(self) -> dict[str, str]:
        """Standard column → the roster's own header, for the columns the user named."""
        return {
            name: self.cleaned_data[f"column_{name}"].strip()
            for name, _label in MAPPED_COLUMNS
            if self.cleaned_data.get(f"column_{name}", "").strip()
        }


class EligibilityCheckForm(BootstrapFormMixin, forms.Form):
    """Open a certification run: which roster (its office runs it), which partner regions, which checks."""

    roster = forms.ModelChoiceField(label=_("待遇领取人员名册"), queryset=BenefitRoster.objects.none())
    partners = forms.MultipleChoiceField(
        label=_("协助认证的地区（对方节点）"),
        choices=(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    checks = forms.MultipleChoiceField(
        label=_("核查内容"),
        choices=FindingKind.choices,
        initial=FindingKind.values,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("只发送加密编码（数据可用不可见），不发送姓名和身份证号码"),
    )

    def __init__(self, *args: Any, rosters: Any, peers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["roster"], rosters)
        self.fields["partners"].choices = [(node.node_id, node.name) for node in peers]  # type: ignore[attr-defined]


class FindingDecisionForm(BootstrapFormMixin, forms.Form):
    """Confirm or dismiss one finding, or the ticked ones of a run."""

    decision = forms.ChoiceField(
        label=_("处理"), choices=(("confirm", _("确认（暂停发放）")), ("dismiss", _("排除（不再提示）")))
    )
    note = forms.CharField(label=_("核实说明"), max_length=300, required=False)
    override = forms.BooleanField(label=_("改判（与本批次或其他批次已作的决定相反）"), required=False)
    override_reason = forms.CharField(label=_("改判理由"), max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        """An override is explicit: ticked, with its reason; ``override_reason`` is blank otherwise."""
        data = super().clean() or {}
        if data.get("override") and not (data.get("override_reason") or "").strip():
            self.add_error("override_reason", _("改判须说明理由"))
        if not data.get("override"):
            data["override_reason"] = ""
        return data
