"""Pages of the member portal (掌上工会), phone first. Thin: reads through ``selectors``, writes
through ``actions`` here and ``xietong.services.actions``.

Public: the sign-in pages, the web app manifest and the service worker. Member-only pages carry
``session.member_required`` (a portal session, never a staff account)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xietong.core import pii, ratelimit
from xietong.core.generic import public
from xietong.membership import selectors as membership
from xietong.services import actions as services
from xietong.services.choices import Channel, RequestStatus

from . import actions, selectors
from .forms import CodeForm, PhoneForm, RateForm, RequestForm
from .session import current_member, member_of, member_required, sign_in, sign_out


def _next(request: HttpRequest) -> str:
    """Where to go after signing in: a portal path from ``next``, else the portal's home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if safe and target.startswith("/portal/") else reverse("portal:home")


# Sign-in --------------------------------------------------------------------------------------------------


@public
def signin(request: HttpRequest) -> HttpResponse:
    """Step 1: the phone number. Whatever the number, the next page is the same (a code is sent
    only to a member's phone): the page says nothing about who is a member."""
    if current_member(request) is not None:
        return redirect(_next(request))
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["phone"]
        if ratelimit.exceeded(request, "portal_code", phone=number):
            return ratelimit.refused(request)
        try:
            actions.code_send(phone_number=number)
        except ValidationError as exc:
            form.add_error("phone", exc.message_dict.get("phone", exc.messages))
        else:
            request.session["xietong_portal_phone"] = number
            return redirect(f"{reverse('portal:code')}?next={_next(request)}")
    return render(request, "portal/signin.html", {"form": form, "next": _next(request)})


@public
def code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code from the SMS. One refusal for a wrong, expired or spent code."""
    number = request.session.get("xietong_portal_phone", "")
    if not number:
        return redirect("portal:signin")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if ratelimit.exceeded(request, "portal_verify", phone=number):
            return ratelimit.refused(request)
        try:
            member = actions.code_check(phone_number=number, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc.message_dict.get("code", exc.messages))
        else:
            sign_in(request, member)
            return redirect(_next(request))
    context = {
        "form": form,
        "masked": pii.mask_phone(number),
        "minutes": settings.XIETONG_PORTAL_CODE_TTL // 60,
        "next": _next(request),
    }
    return render(request, "portal/code.html", context)


@public
@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    sign_out(request)
    return redirect("portal:signin")


# The member's screens ---------------------------------------------------------------------------------------


def _page(request: HttpRequest, template: str, tab: str, **context: Any) -> HttpResponse:
    return render(request, template, {"member": member_of(request), "tab": tab, **context})


@member_required
def home(request: HttpRequest) -> HttpResponse:
    """The portal's home: the member, shortcuts to every screen, the latest notifications."""
    member = member_of(request)
    open_requests = selectors.my_requests(member).exclude(status=RequestStatus.CLOSED).count()
    return _page(
        request,
        "portal/home.html",
        "home",
        open_requests=open_requests,
        latest=selectors.notifications(member, limit=3),
    )


@member_required
def card(request: HttpRequest) -> HttpResponse:
    """My e-card: membership's card with a fresh signed QR code (htmx refreshes it every minute)."""
    from xietong.membership.views import qr_svg

    member = member_of(request)
    active = membership.active_card(member)
    context: dict[str, Any] = {"card": active}
    if active is not None:
        token = membership.card_token(active)
        context.update(card_token=token, qr=qr_svg(token, scale=5))
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "membership/_partials/ecard.html", {"member": member, **context})
    return _page(request, "portal/card.html", "card", **context)


@member_required
def union(request: HttpRequest) -> HttpResponse:
    """My union and my membership history (memberships and transfers)."""
    member = member_of(request)
    return _page(
        request,
        "portal/union.html",
        "me",
        history=selectors.membership_history(member),
        transfers=selectors.my_transfers(member),
    )


@member_required
def benefits(request: HttpRequest) -> HttpResponse:
    """The benefits I can use (with what is left of each limit) and my uses."""
    member = member_of(request)
    return _page(
        request,
        "portal/benefits.html",
        "benefits",
        items=selectors.my_benefits(member),
        uses=selectors.my_benefit_uses(member)[:50],
    )


@member_required
def requests(request: HttpRequest) -> HttpResponse:
    """My service requests, newest first."""
    mine = selectors.my_requests(member_of(request))[:100]
    return _page(request, "portal/requests.html", "requests", object_list=mine)


@member_required
def request_new(request: HttpRequest) -> HttpResponse:
    """File a request (channel "portal"): routed to my union; the public Q&A first."""
    member = member_of(request)
    form = RequestForm(request.POST or None, categories=selectors.request_categories())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            filed = services.request_file(
                channel=Channel.PORTAL,
                category=data["category"],
                subject=data["subject"],
                description=data["description"],
                requester_name=member.person.name,
                requester_phone=pii.decrypt(member.person.phone_cipher, field="phone")
                if member.person.phone_cipher
                else "",
                member=member,
                employer=member.employer,
                acting_user=None,
            )
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error(None, error)
        else:
            messages.success(request, _("已提交，受理号 %(number)s") % {"number": filed.number})
            return redirect("portal:request_detail", pk=filed.pk)
    return _page(
        request, "portal/request_new.html", "requests", form=form, answers=selectors.public_answers()
    )


@member_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One of my requests: its status, the replies, the answer, and the rating once answered."""
    service_request = selectors.my_request(member_of(request), pk)
    form = RateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_close(
                service_request=service_request,
                satisfaction=form.cleaned_data["satisfaction"],
                comment=form.cleaned_data["comment"],
                acting_user=None,
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("感谢您的评价"))
        return redirect("portal:request_detail", pk=service_request.pk)
    return _page(
        request,
        "portal/request_detail.html",
        "requests",
        object=service_request,
        thread=selectors.my_thread(service_request),
        rate_form=form if service_request.status == RequestStatus.ANSWERED else None,
    )


@member_required
def applications(request: HttpRequest) -> HttpResponse:
    """My applications: joining and transfers."""
    member = member_of(request)
    return _page(
        request,
        "portal/applications.html",
        "me",
        join_applications=selectors.my_applications(member),
        transfers=selectors.my_transfers(member),
    )


@member_required
def notifications(request: HttpRequest) -> HttpResponse:
    """Events about my requests and applications, newest first."""
    events = selectors.notifications(member_of(request))
    return _page(request, "portal/notifications.html", "notifications", events=events)


# Installable web app --------------------------------------------------------------------------------------


@public
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: the portal installs on the phone's home screen."""
    body = {
        "name": _("掌上工会"),
        "short_name": _("掌上工会"),
        "lang": "zh-CN",
        "start_url": reverse("portal:home"),
        "scope": "/portal/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#c8102e",
        "icons": [
            {"src": static("portal/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {
                "src": static("portal/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any maskable",
            },
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@public
def service_worker(request: HttpRequest) -> HttpResponse:
    """A minimal service worker (same origin, allowed by the CSP's script-src 'self'): it lets the
    phone install the app and shows an offline page; member data is never cached."""
    response = render(request, "portal/sw.js", content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/portal/"
    response["Cache-Control"] = "no-cache"
    return response
