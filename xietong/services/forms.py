"""Forms of the services app: they check shapes; the actions check meaning."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xietong.core.forms import (
    BootstrapFormMixin,
    RegionCodeField,
    ScopedOrganizationField,
    date_input,
    set_queryset,
)
from xietong.core.models import Organization, Region
from xietong.membership.choices import Benefit as BenefitKind

from .choices import (
    BenefitPeriod,
    Channel,
    EntryKind,
    LegalAidOutcome,
    LegalAidStage,
    ProviderKind,
    StationLevel,
)
from .models import Lawyer, ServiceCategory


def _categories() -> Any:
    return ServiceCategory.objects.filter(active=True)


class StationForm(BootstrapFormMixin, forms.Form):
    """A service centre or station."""

    organization = ScopedOrganizationField(label=_("所属工会"), queryset=Organization.objects.none())
    name = forms.CharField(label=_("名称"), max_length=128)
    level = forms.ChoiceField(label=_("层级"), choices=StationLevel.choices)
    district = RegionCodeField(
        label=_("所在区县代码"), required=True, help_text=_("6位行政区划代码，例如 110109（门头沟区）")
    )
    address = forms.CharField(label=_("地址"), max_length=200)
    hours = forms.CharField(
        label=_("开放时间"), max_length=100, required=False, help_text=_("例如：周一至周五 9:00–17:00")
    )
    phone = forms.CharField(label=_("服务电话"), max_length=32, required=False)
    services = forms.ModelMultipleChoiceField(
        label=_("服务项目"),
        queryset=ServiceCategory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=_("简介"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    active = forms.BooleanField(label=_("对外开放"), required=False, initial=True)

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)
        self.fields["services"].queryset = _categories()  # type: ignore[attr-defined]
        self.fields["services"].widget.attrs["class"] = "list-unstyled"


class RequestForm(BootstrapFormMixin, forms.Form):
    """A request taken by an operator or at a desk: a hotline call, a walk-in, a web message."""

    channel = forms.ChoiceField(
        label=_("渠道"), choices=[c for c in Channel.choices if c[0] != Channel.PORTAL]
    )
    received_by = ScopedOrganizationField(label=_("受理工会"), queryset=Organization.objects.none())
    category = forms.ModelChoiceField(label=_("类别"), queryset=ServiceCategory.objects.none())
    subject = forms.CharField(label=_("事由"), max_length=120)
    description = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 4}))
    requester_name = forms.CharField(label=_("职工姓名"), max_length=64)
    requester_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    id_number = forms.CharField(
        label=_("身份证号码（可不填）"),
        max_length=40,
        required=False,
        help_text=_("填写后按会员关系分派到职工所在工会"),
    )
    employer_name = forms.CharField(label=_("工作单位"), max_length=128, required=False)
    district = RegionCodeField(
        label=_("所在区县代码（非会员）"),
        required=False,
        help_text=_("非会员按单位或来电人所在区县分派，例如 110115（大兴区）"),
    )
    call_seconds = forms.IntegerField(label=_("通话时长（秒，热线）"), min_value=0, required=False)

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["received_by"], organizations)
        set_queryset(self.fields["category"], _categories())


class ReplyForm(BootstrapFormMixin, forms.Form):
    """A reply to the worker or an internal note, with an optional attachment."""

    kind = forms.ChoiceField(
        label=_("类别"), choices=[c for c in EntryKind.choices if c[0] != EntryKind.EVENT]
    )
    text = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    attachment = forms.FileField(label=_("附件（可不传）"), required=False)
    final = forms.BooleanField(label=_("作为正式答复（诉求转为已答复）"), required=False)


class ReassignForm(BootstrapFormMixin, forms.Form):
    organization = ScopedOrganizationField(label=_("交由工会"), queryset=Organization.objects.none())

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)


class HandoverForm(BootstrapFormMixin, forms.Form):
    to_node = forms.ChoiceField(label=_("转交地区节点"), choices=())
    union_code = forms.CharField(label=_("对方工会编码（可不填）"), max_length=64, required=False)
    note = forms.CharField(label=_("转交说明"), max_length=300, required=False)

    def __init__(self, *args: Any, nodes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_node"].choices = [(node.node_id, node.name) for node in nodes]  # type: ignore[attr-defined]


class CloseForm(BootstrapFormMixin, forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("职工满意度"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", _("未评价")), *[(n, f"{n} ★") for n in range(5, 0, -1)]],
    )
    comment = forms.CharField(label=_("评价意见"), max_length=300, required=False)


class FollowupForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("回访情况"), widget=forms.Textarea(attrs={"rows": 2}))


class KnowledgeForm(BootstrapFormMixin, forms.Form):
    organization = ScopedOrganizationField(label=_("编写单位"), queryset=Organization.objects.none())
    category = forms.ModelChoiceField(label=_("类别"), queryset=ServiceCategory.objects.none())
    question = forms.CharField(label=_("问题"), max_length=200)
    text = forms.CharField(label=_("标准答复"), widget=forms.Textarea(attrs={"rows": 6}))
    keywords = forms.CharField(label=_("关键词"), max_length=200, required=False)
    public = forms.BooleanField(label=_("向职工公开"), required=False, initial=True)

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)
        set_queryset(self.fields["category"], _categories())


class LawyerForm(BootstrapFormMixin, forms.Form):
    organization = ScopedOrganizationField(label=_("所属工会"), queryset=Organization.objects.none())
    name = forms.CharField(label=_("姓名"), max_length=64)
    firm = forms.CharField(label=_("律师事务所"), max_length=128)
    phone = forms.CharField(label=_("办公电话"), max_length=32, required=False)
    specialties = forms.CharField(label=_("擅长领域"), max_length=200, required=False)

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)


class LegalAidOpenForm(BootstrapFormMixin, forms.Form):
    lawyer = forms.ModelChoiceField(label=_("承办律师"), queryset=Lawyer.objects.none())

    def __init__(self, *args: Any, lawyers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["lawyer"], lawyers)


class MilestoneForm(BootstrapFormMixin, forms.Form):
    stage = forms.ChoiceField(
        label=_("阶段"), choices=[c for c in LegalAidStage.choices if c[0] != LegalAidStage.OPENED]
    )
    happened_on = forms.DateField(label=_("日期"), widget=date_input(), initial=timezone.localdate)
    note = forms.CharField(label=_("情况"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    outcome = forms.ChoiceField(
        label=_("结果（结案时）"), choices=[("", "—"), *LegalAidOutcome.choices], required=False
    )


class ProviderForm(BootstrapFormMixin, forms.Form):
    """A partner provider of universal benefits and its card desks."""

    organization = ScopedOrganizationField(label=_("签约工会"), queryset=Organization.objects.none())
    name = forms.CharField(label=_("名称"), max_length=128)
    kind = forms.ChoiceField(label=_("类型"), choices=ProviderKind.choices)
    district = RegionCodeField(label=_("所在区县代码"), required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    service_points = forms.ModelMultipleChoiceField(
        label=_("核验窗口"),
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("合作单位工作人员核验会员卡的服务点（在“会员卡核验”中使用）"),
    )
    active = forms.BooleanField(label=_("合作中"), required=False, initial=True)

    def __init__(self, *args: Any, organizations: Any, service_points: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["organization"], organizations)
        self.fields["service_points"].queryset = service_points  # type: ignore[attr-defined]


class BenefitForm(BootstrapFormMixin, forms.Form):
    """A benefit item: who may use it, how often, from when to when."""

    provider = forms.ModelChoiceField(label=_("合作单位"), queryset=Organization.objects.none())
    name = forms.CharField(label=_("名称"), max_length=128, help_text=_("例如：会员免费挂号"))
    kind = forms.ChoiceField(label=_("服务类型"), choices=BenefitKind.choices)
    description = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    limit_count = forms.IntegerField(
        label=_("每人次数上限"), min_value=1, required=False, help_text=_("不限次数请留空")
    )
    limit_period = forms.ChoiceField(
        label=_("上限周期"), choices=BenefitPeriod.choices, initial=BenefitPeriod.YEAR
    )
    valid_from = forms.DateField(label=_("生效日期"), widget=date_input())
    valid_until = forms.DateField(label=_("截止日期"), widget=date_input(), required=False)
    unions = forms.ModelMultipleChoiceField(
        label=_("限以下工会会员"),
        queryset=Organization.objects.none(),
        required=False,
        help_text=_("不选则所有在册会员均可享受；选中的工会含其下级工会"),
    )
    region_codes = forms.CharField(
        label=_("限以下地区会员"),
        required=False,
        help_text=_("6位行政区划代码，多个用逗号分隔，例如 110109；留空则不限地区"),
    )
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, providers: Any, unions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["provider"], providers)
        self.fields["unions"].queryset = unions  # type: ignore[attr-defined]
        self.fields["valid_from"].initial = timezone.localdate()

    def clean_region_codes(self) -> list[Region]:
        codes = [code.strip() for code in self.cleaned_data["region_codes"].replace("，", ",").split(",")]
        regions = []
        for code in filter(None, codes):
            region = Region.objects.filter(code=code).first()
            if region is None:
                raise forms.ValidationError(_("行政区划代码“%(code)s”不存在") % {"code": code})
            regions.append(region)
        return regions


class CategoryForm(BootstrapFormMixin, forms.Form):
    """A request category: its name, time limits in working days, legal aid, offered, place."""

    name = forms.CharField(label=_("名称"), max_length=32)
    acknowledge_days = forms.IntegerField(
        label=_("签收时限（工作日）"), min_value=1, max_value=30, help_text=_("1至30个工作日")
    )
    answer_days = forms.IntegerField(
        label=_("答复时限（工作日）"), min_value=1, max_value=30, help_text=_("1至30个工作日")
    )
    legal_aid = forms.BooleanField(label=_("可转法律援助"), required=False)
    active = forms.BooleanField(
        label=_("启用"), required=False, help_text=_("停用后不再用于新诉求，已有诉求不受影响")
    )
    order = forms.IntegerField(label=_("排序"), min_value=0, max_value=32767)
