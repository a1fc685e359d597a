"""Choice lists of the core app; code names follow GLOSSARY.md."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    """Kinds of organisation (GLOSSARY.md, "Regions and organisations")."""

    FEDERATION = "federation", _("总工会")
    INDUSTRY_UNION = "industry_union", _("产业工会")
    SECTOR_FEDERATION = "sector_federation", _("行业工会联合会")
    GRASSROOTS_UNION = "grassroots_union", _("基层工会")
    HRSS_BUREAU = "hrss_bureau", _("人力资源和社会保障部门")
    ARBITRATION_COMMISSION = "arbitration_commission", _("劳动人事争议仲裁委员会")
    LABOUR_INSPECTION = "labour_inspection", _("劳动保障监察机构")

    @classmethod
    def union_kinds(cls) -> list[str]:
        """Kinds that are trade unions (as opposed to HRSS bodies)."""
        return [cls.FEDERATION, cls.INDUSTRY_UNION, cls.SECTOR_FEDERATION, cls.GRASSROOTS_UNION]


class RegionLevel(models.TextChoices):
    """Levels of the GB/T 2260 administrative division codes."""

    PROVINCE = "province", _("省级")
    PREFECTURE = "prefecture", _("地级")
    COUNTY = "county", _("县级")


class Gender(models.TextChoices):
    """Gender as derived from the resident ID number (17th digit: odd male, even female)."""

    MALE = "M", _("男")
    FEMALE = "F", _("女")


class AffiliationKind(models.TextChoices):
    """Why an organisation answers to a second organisation outside its tree parent."""

    DUAL_MANAGEMENT = "dual_management", _("双重管理")


class AuditAction(models.TextChoices):
    """What an audit event records. Add new kinds here so the audit viewer can name them."""

    CREATE = "create", _("新建")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    REVEAL = "reveal", _("查看完整个人信息")
    LOOKUP = "lookup", _("按身份证号查询")
    EXPORT = "export", _("导出")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    GRANT = "grant", _("授予角色")
    REVOKE = "revoke", _("撤销角色")
    DENIED = "denied", _("操作被拒绝")
    SUBMIT = "submit", _("提交申请")
    APPROVE = "approve", _("审核通过")
    REJECT = "reject", _("审核不通过")
    STATUS = "status", _("状态变更")
    IMPORT = "import", _("批量导入")
    RECEIVE = "receive", _("收到其他节点的数据")
    KEY_ROTATE = "key_rotate", _("密钥轮换")


class JobStatus(models.TextChoices):
    """Where a background job (``BackgroundJob``) stands; the same four states for every kind of job.

    A job that goes through phases (checking, then writing) stays ``running`` and says which phase
    it is in on its row (``jobs.job_progress(phase=…)``) instead of adding statuses.
    """

    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
