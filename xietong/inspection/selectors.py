"""Every read of the inspection app: the wage-arrears blacklist as every node of the region group
holds it, and the check other apps make against it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from xietong.core.choices import OrganizationKind
from xietong.core.models import Organization
from xietong.core.selectors import get_scoped, organizations_for
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


def arrears_listings(*, user: Viewer, q: str = "", status: str = "") -> QuerySet[ArrearsListing]:
    """The blacklist as every node holds it: its own listings and those published by the others."""
    if not user.has_perm("inspection.view_arrearslisting"):
        return ArrearsListing.objects.none()
    queryset = ArrearsListing.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    return search_listings(queryset, q)


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


def arrears_check(*, credit_code: str = "", name: str = "") -> list[ArrearsListing]:
    """Is this employer on the blacklist anywhere in the region group? Its current listings.

    For other apps (honours, competitions): no user, no scope, the blacklist is shared by design.
    A credit code is matched exactly (after normalising); a name exactly after simplification.
    """
    condition = Q()
    if credit_code.strip():
        condition |= Q(credit_code=creditcode.normalize(credit_code))
    if name.strip():
        condition |= Q(employer_name=to_simplified(name.strip()))
    if not condition:
        return []
    return list(ArrearsListing.objects.filter(condition, status=ListingStatus.LISTED))


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
