"""Every read of the inspection app: the wage-arrears blacklist as every node of the region group
holds it, and the check other apps make against it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from xietong.core.alerts import Alert
from xietong.core.choices import OrganizationKind
from xietong.core.models import Employer, Organization
from xietong.core.selectors import get_scoped, organizations_for
from xietong.exchange.models import ExchangeNode
from xietong.lib import creditcode
from xietong.lib.names import to_simplified

from .choices import ListingStatus
from .models import ArrearsListing

if TYPE_CHECKING:
    from xietong.core.typing import Viewer


def deciding_authorities(*, user: Viewer) -> QuerySet[Organization]:
    """The labour inspection authorities where ``user`` may list an employer: the bodies that can
    make the decision a listing rests on."""
    return organizations_for(user=user, perm="inspection.add_arrearslisting").filter(
        kind=OrganizationKind.LABOUR_INSPECTION
    )


def arrears_listings(*, user: Viewer) -> QuerySet[ArrearsListing]:
    """The blacklist as every node holds it: its own listings and those published by the others
    (the list page and the API narrow it with ``filters.ListingFilter``)."""
    if not user.has_perm("inspection.view_arrearslisting"):
        return ArrearsListing.objects.none()
    return with_node_names(ArrearsListing.objects.all())


def search_listings(queryset: QuerySet[ArrearsListing], q: str) -> QuerySet[ArrearsListing]:
    """Listings by the employer's name (part of it, traditional characters folded), its credit code or
    the decision's number."""
    if not q.strip():
        return queryset
    text = to_simplified(q.strip())
    code = creditcode.normalize(q)
    return queryset.filter(
        Q(employer_name__icontains=text) | Q(credit_code=code) | Q(decision_no__icontains=q.strip())
    )


def with_node_names(queryset: QuerySet[ArrearsListing]) -> QuerySet[ArrearsListing]:
    """Each listing with ``origin_node_name``: the listing node's name from the region group's
    registry (``tj`` → 天津节点), its id where the registry does not name it."""
    names = ExchangeNode.objects.filter(node_id=OuterRef("origin_node")).values("name")[:1]
    name = Coalesce(Subquery(names), F("origin_node"), output_field=CharField())
    return queryset.annotate(origin_node_name=name)


def arrears_check(*, credit_code: str = "", name: str = "") -> list[ArrearsListing]:
    """Is this employer on the blacklist anywhere in the region group? Its current listings.

    For other apps (honours, competitions): no user, no scope, the blacklist is shared by design.
    A credit code must be valid (``creditcode.InvalidCreditCode`` otherwise: a mistyped code must
    never read as "not listed") and is matched exactly; a name matches any listing whose name
    contains it, traditional characters folded (惠佳豐 finds 北京惠佳丰商贸有限公司).
    """
    condition = Q()
    if credit_code.strip():
        condition |= Q(credit_code=creditcode.parse(credit_code).code)
    if name.strip():
        condition |= Q(employer_name__icontains=to_simplified(name.strip()))
    if not condition:
        return []
    return list(with_node_names(ArrearsListing.objects.filter(condition, status=ListingStatus.LISTED)))


def employer_alerts(employer: Employer, user: Viewer) -> list[Alert]:
    """The warning on an employer's own page when the region group lists it (registered with core's
    ``alerts`` in ``InspectionConfig.ready``): by its credit code, or its exact name without one."""
    listings = ArrearsListing.objects.filter(status=ListingStatus.LISTED)
    if employer.credit_code:
        listings = listings.filter(credit_code=employer.credit_code)
    else:
        listings = listings.filter(employer_name=to_simplified(employer.name))
    may_view = user.has_perm("inspection.view_arrearslisting")
    alerts = []
    for listing in with_node_names(listings):
        facts = {
            "node": getattr(listing, "origin_node_name", listing.origin_node),
            "authority": listing.authority,
            "date": listing.listed_on.isoformat(),
        }
        alerts.append(
            Alert(
                message=_("该单位已列入拖欠工资失信名单（%(node)s，%(authority)s，%(date)s）。") % facts,
                url=reverse("inspection:arrears_detail", args=[listing.pk]) if may_view else "",
                link_text=_("查看名单") if may_view else "",
            )
        )
    return alerts


def arrears_editable_by(*, user: Viewer) -> QuerySet[ArrearsListing]:
    """Listings this node made in the organisations where the user may change them."""
    return ArrearsListing.objects.restrict(user, "change").filter(organization__isnull=False)


def access_listing(*, user: Viewer, pk: object, action: str = "view") -> ArrearsListing:
    """The listing ``pk`` if ``user`` may ``action`` it: ``view`` (every listing of the region group,
    for holders of the view right) or ``change`` (remove it: this node's listings in the user's
    offices); the same ``Http404`` whether it is missing or out of reach (ARCHITECTURE.md §3 rule 9)."""
    if action == "view":
        return get_scoped(arrears_listings(user=user), pk)
    if action == "change":
        return get_scoped(arrears_editable_by(user=user), pk)
    return get_scoped(ArrearsListing.objects.restrict(user, action), pk)
