"""Every write of the member portal: sending a sign-in code and checking it. Filing and rating
requests go through ``xietong.services.actions`` with the member as data.

No member oracle: ``code_send`` does the same work and answers the same whether the number belongs
to a member or not (it only queues a ``CodeRequest``; the background job sends a code only to a
member), and ``code_check`` gives one refusal for a wrong, expired, spent or
never-sent code."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from xietong.core import audit, jobs, pii
from xietong.core.choices import AuditAction
from xietong.lib import phone
from xietong.membership.models import Member

from . import selectors, sms
from .models import CodeRequest, SignInCode

logger = logging.getLogger(__name__)

#: The one refusal for a code that is wrong, expired, spent or was never sent.
REFUSAL = gettext_noop("验证码错误或已失效，请核对或重新获取验证码")


def phone_index(value: str) -> tuple[str, str]:
    """The phone number in its checked form and its blind index; ``ValidationError`` if malformed
    (a malformed number says nothing about membership)."""
    try:
        number = phone.parse(value)
    except phone.InvalidPhone as exc:
        raise ValidationError({"phone": str(exc)}) from exc
    return number, pii.blind_index(number, purpose="phone")


def _digest(code: str, index: str) -> str:
    return salted_hmac("xietong.portal.code", f"{index}:{code}").hexdigest()


@transaction.atomic
def code_send(*, phone_number: str) -> CodeRequest:
    """Ask for a sign-in code for ``phone_number``: record the ask (the phone encrypted with its blind
    index) and queue it for the background (``code_request_run``) once this transaction commits.

    The same work for every well-formed number, member's or not: no member look-up, no code, no SMS
    here, so neither the page nor how long it takes says who is a member (a timing oracle otherwise,
    as saving a code and calling the SMS gateway take time). ``ValidationError`` if malformed."""
    number, index = phone_index(phone_number)
    ask = CodeRequest.objects.create(phone_cipher=pii.encrypt(number, field="phone"), phone_index=index)
    jobs.job_enqueue(job=ask)
    return ask


def code_request_run(*, job: CodeRequest) -> None:
    """The runner of a ``CodeRequest``: clear the phone from the row first (it is kept no longer than
    needed, even if the sending fails), delete the requests that have finished, then send a code if
    the number is a member's; an unknown number gets nothing."""
    number = pii.decrypt(job.phone_cipher, field="phone") if job.phone_cipher else ""
    index = job.phone_index
    job.phone_cipher = job.phone_index = ""
    job.save(update_fields=["phone_cipher", "phone_index", "updated_at"])
    CodeRequest.objects.filter(status__in=CodeRequest.FINISHED).delete()
    if number:
        _code_deliver(number, index)


@transaction.atomic
def _code_deliver(number: str, index: str) -> None:
    """Send a six-digit sign-in code to ``number`` if it is a member's; the earlier codes of that phone
    stop counting. A gateway failure is logged, not raised (the request was answered long ago)."""
    member = selectors.member_by_phone(pii.lookup_indexes(number, purpose="phone"))
    if member is None:
        return
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = max(settings.XIETONG_PORTAL_CODE_TTL // 60, 1)
    SignInCode.objects.create(
        phone_index=index,
        member=member,
        code_hash=_digest(code, index),
        expires_at=timezone.now() + dt.timedelta(seconds=settings.XIETONG_PORTAL_CODE_TTL),
    )
    text = _("您的掌上工会登录验证码为%(code)s，%(minutes)s分钟内有效。请勿告诉他人。") % {
        "code": code,
        "minutes": minutes,
    }
    try:
        sms.send(phone=number, text=text)
    except sms.SmsError:
        logger.exception("portal sign-in code not sent")


def code_check(*, phone_number: str, code: str) -> Member:
    """The member whose phone received ``code`` (the code is spent); ``ValidationError`` with the
    one refusal otherwise. A code allows ``XIETONG_PORTAL_CODE_ATTEMPTS`` tries, then it is spent.
    A wrong try is counted in its own transaction, so the refusal does not roll the count back."""
    number, _index = phone_index(phone_number)
    member = _spend(pii.lookup_indexes(number, purpose="phone"), "".join((code or "").split()))
    if member is None:
        raise ValidationError({"code": _(REFUSAL)})
    return member


@transaction.atomic
def _spend(indexes: list[str], code: str) -> Member | None:
    sent = selectors.live_code(indexes)
    if sent is not None:
        sent = SignInCode.objects.select_for_update().get(pk=sent.pk)
    if sent is None or sent.attempts >= settings.XIETONG_PORTAL_CODE_ATTEMPTS:
        return None
    if not constant_time_compare(sent.code_hash, _digest(code, sent.phone_index)):
        sent.attempts += 1
        if sent.attempts >= settings.XIETONG_PORTAL_CODE_ATTEMPTS:
            sent.used_at = timezone.now()  # spent: a new code is needed
        sent.save(update_fields=["attempts", "used_at", "updated_at"])
        return None
    sent.used_at = timezone.now()
    sent.save(update_fields=["used_at", "updated_at"])
    member = selectors.portal_member(sent.member_id)
    if member is not None:
        audit.record(AuditAction.LOGIN, target=member, detail={"portal": True})
    return member
