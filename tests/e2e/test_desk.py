"""The service desk in a real browser (issue 12 §5): the e-card's QR code read by the device's camera
(Chromium's fake camera plays a video of the code) and a card number typed with the last four
characters of the ID number; the verdict in large type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xietong.core import pii
from xietong.demo.world import DEMO_PASSWORD
from xietong.membership import selectors
from xietong.membership.choices import CardStatus, MemberStatus
from xietong.membership.models import MemberCard

from .conftest import CHROMIUM, CHROMIUM_ARGS, LANGUAGES, login, new_context, tr

pytestmark = [pytest.mark.e2e]


def _a_card() -> MemberCard:
    card = (
        MemberCard.objects.filter(status=CardStatus.ACTIVE, member__status=MemberStatus.ACTIVE)
        .select_related("member__person")
        .first()
    )
    assert card is not None, "the demo world issues cards"
    return card


def qr_video(text: str, path: Path, *, width: int = 640, height: int = 480) -> Path:
    """A one-frame YUV4MPEG2 video of ``text``'s QR code, for ``--use-file-for-fake-video-capture``."""
    import segno

    matrix = [list(row) for row in segno.make(text, error="m").matrix]
    size = len(matrix)
    scale = min(width, height) // (size + 8)
    left, top = (width - size * scale) // 2, (height - size * scale) // 2
    luma = bytearray([235]) * (width * height)  # white
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start : start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (width * height // 4)
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


def test_the_desk_reads_the_e_card_with_the_camera(
    playwright: Any, live_server: Any, demo_world: Any, tmp_path: Path
) -> None:
    card = _a_card()
    video = qr_video(selectors.card_token(card), tmp_path / "qr.y4m")
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + camera)
    try:
        context = new_context(browser, live_server)
        context.grant_permissions(["camera"])
        desk = context.new_page()
        desk.set_default_timeout(20_000)
        login(desk, "hospital_desk", DEMO_PASSWORD)
        desk.goto("/membership/verify/")
        desk.get_by_role("button", name="用摄像头扫码").click()
        ok = desk.get_by_test_id("verify-ok")
        ok.wait_for()
        assert "核验通过" in ok.inner_text() and card.member.person.name in ok.inner_text()
        assert card.uses.count() == 1
    finally:
        browser.close()


@pytest.mark.parametrize("lang", LANGUAGES, indirect=True)
def test_the_desk_checks_a_typed_card_number_with_the_last_four(
    page: Any, demo_world: Any, lang: str
) -> None:
    card = _a_card()
    last4 = pii.decrypt(card.member.person.id_number_cipher, field="id_number")[-4:]
    login(page, "hospital_desk", DEMO_PASSWORD)
    page.goto("/membership/verify/")
    assert page.locator("html").get_attribute("lang") == lang
    page.get_by_test_id("card-number-entry").locator("summary").click()
    entry = page.get_by_test_id("card-number-entry")
    entry.locator("[name=card_number]").fill(card.number)
    entry.locator("[name=id_last4]").fill("0000" if last4 != "0000" else "1111")
    entry.get_by_role("button").click()
    page.get_by_test_id("verify-refused").wait_for()  # the verdict replaces the result area (htmx)
    entry.locator("[name=card_number]").fill(card.number)
    entry.locator("[name=id_last4]").fill(last4)
    entry.get_by_role("button").click()
    ok = page.get_by_test_id("verify-ok")
    assert tr(lang, "核验通过") in ok.inner_text() and card.number in ok.inner_text()
