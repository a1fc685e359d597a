"""Choices of the services app."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# The nine request categories every node starts with (issue 14 §2): code, name, may become legal aid.
# Migration 0002 wrote them once; ``actions.categories_sync`` writes any that are missing.
DEFAULT_CATEGORIES: tuple[tuple[str, str, bool], ...] = (
    ("policy", "政策咨询", False),
    ("legal_aid", "法律援助", True),
    ("hardship", "困难帮扶", False),
    ("mutual_aid", "互助保障", False),
    ("employment", "就业创业", False),
    ("skills", "技能培训", False),
    ("living", "生活服务", False),
    ("complaint", "权益投诉", False),
    ("suggestion", "意见建议", False),
)


class StationLevel(models.TextChoices):
    """The three-level service network (三级服务体系: city, district, street), the grassroots stations
    below it, and a province's own centre (河北省职工服务中心)."""

    PROVINCE = "province", _("省级职工服务中心")
    CITY = "city", _("市级职工服务中心")
    DISTRICT = "district", _("区级职工服务中心")
    STREET = "street", _("街道（乡镇）职工服务站")
    GRASSROOTS = "grassroots", _("基层工会服务站")


class Channel(models.TextChoices):
    """How a service request reached the union."""

    HOTLINE = "hotline", _("12351热线")
    PORTAL = "portal", _("掌上工会")
    WALK_IN = "walk_in", _("服务站窗口")
    WEB = "web", _("职工服务网")


class RequestStatus(models.TextChoices):
    NEW = "new", _("待签收")
    ACKNOWLEDGED = "acknowledged", _("办理中")
    HANDED_OVER = "handed_over", _("已转外地办理")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已办结")


class EntryKind(models.TextChoices):
    """One line of a request's thread: what the worker reads, or what only staff read."""

    REPLY = "reply", _("答复职工")
    NOTE = "note", _("内部备注")
    EVENT = "event", _("办理记录")


class LegalAidStage(models.TextChoices):
    """Where a legal-aid case stands (法律援助): its milestones, in order."""

    OPENED = "opened", _("已立案，待咨询")
    CONSULTATION = "consultation", _("法律咨询")
    MEDIATION = "mediation", _("调解")
    ARBITRATION_FILED = "arbitration_filed", _("已申请仲裁")
    CLOSED = "closed", _("已结案")


class LegalAidOutcome(models.TextChoices):
    MEDIATED = "mediated", _("调解成功")
    AWARD_UPHELD = "award_upheld", _("仲裁支持职工请求")
    AWARD_PARTLY = "award_partly", _("仲裁部分支持")
    AWARD_REJECTED = "award_rejected", _("仲裁未支持")
    WITHDRAWN = "withdrawn", _("职工撤回")
    REFERRED = "referred", _("转其他机构办理")


class ProviderKind(models.TextChoices):
    """Kinds of partner that offer universal benefits (普惠服务) on the card."""

    HOSPITAL = "hospital", _("医院")
    PARK = "park", _("公园景区")
    SHOP = "shop", _("商户")
    STATION = "station", _("服务站")
    OTHER = "other", _("其他")


class BenefitPeriod(models.TextChoices):
    """The period a benefit's per-member limit counts over (calendar periods)."""

    DAY = "day", _("每天")
    WEEK = "week", _("每周")
    MONTH = "month", _("每月")
    YEAR = "year", _("每年")
    TOTAL = "total", _("累计")
