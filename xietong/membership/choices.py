"""Choice lists of the membership app; code names follow GLOSSARY.md."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberStatus(models.TextChoices):
    """Where a membership stands (会籍状态)."""

    ACTIVE = "active", _("在册")
    SUSPENDED = "suspended", _("暂停")
    LEFT = "left", _("已退会")
    DECEASED = "deceased", _("已故")

    @classmethod
    def current(cls) -> list[str]:
        """Statuses under which a person counts as a member (one such membership per person)."""
        return [cls.ACTIVE, cls.SUSPENDED]


class ApplicationStatus(models.TextChoices):
    """A join application's state, as the worker sees it on the status page."""

    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")


class CardStatus(models.TextChoices):
    """A member card's state: only an active card verifies."""

    ACTIVE = "active", _("正常")
    SUSPENDED = "suspended", _("暂停使用")
    LOST = "lost", _("已挂失")
    REPLACED = "replaced", _("已补换")


class ServicePointKind(models.TextChoices):
    """Kinds of partner service point that accept the card."""

    HOSPITAL = "hospital", _("医院挂号窗口")
    PARK = "park", _("公园景区")
    SERVICE_STATION = "service_station", _("职工服务站")
    OTHER = "other", _("其他")


class Benefit(models.TextChoices):
    """What a member receives when the card is used (普惠服务)."""

    FREE_REGISTRATION = "free_registration", _("免费挂号")
    PARK_ENTRY = "park_entry", _("公园免费入园")
    STATION_SERVICE = "station_service", _("服务站服务")
    OTHER = "other", _("其他普惠服务")


class MemberSource(models.TextChoices):
    """How a membership came into the roll."""

    JOIN = "join", _("扫码入会")
    IMPORT = "import", _("批量导入")
    MANUAL = "manual", _("手工登记")
    TRANSFER = "transfer", _("会员关系转接")


class TransferStatus(models.TextChoices):
    """Where a membership transfer stands."""

    REQUESTED = "requested", _("待转入工会办理")
    ACCEPTED = "accepted", _("已转入")
    REFUSED = "refused", _("已拒绝")
    CANCELLED = "cancelled", _("已撤回")
