"""The load scenario of a city federation's node (issue 15 §4), run by ``bench/load_bench.py``.

Four kinds of people, weighted as on a working day at 北京市政法卫生文化工会 (12.15万 members):

- officers (``zfws_officer``, ``zfws_clerk``) browse the member roll (first page, the next pages by
  their links, the last page), search it by name, membership number and ID
  number, open members and people, look at the figures page, and now and then export the whole roll
  (a background job: the page polls until the file is ready, then downloads it);
- workers join through the public join form of a union (a fresh, valid ID number each time);
- registration desks (``hospital_desk``) verify cards typed by number with the last four ID
  characters (the cards are the world's, drawn by the driver);
- members sign in to the portal with their phone and the SMS code (the node's ``FileSender``
  writes it to a file this scenario reads, as a phone would receive it), open the home and the
  e-card, and sign out.

Data come from the driver's ``XIETONG_LOAD_DATA`` file; the SMS file is ``XIETONG_LOAD_SMS_FILE``.
Request names group URLs by kind of page (ids and queries left out), which the report keys on.
The time from the sign-in request to the code's arrival (the task worker sends it) and from an
export's request to its file being ready are reported as their own rows.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

from xietong.lib.idnumber import check_digit

DATA: dict[str, Any] = json.loads(Path(os.environ["XIETONG_LOAD_DATA"]).read_text(encoding="utf-8"))
SMS_FILE = Path(os.environ["XIETONG_LOAD_SMS_FILE"])
EXPORT_EVERY = float(os.environ.get("XIETONG_LOAD_EXPORT_EVERY", "60"))  # seconds between whole-roll exports
MEMBERS = "/membership/members/"
NEXT_LINK = re.compile(r'href="\?([^"]*)">(?:下一页|Next)')
EXPORT_PAGE = re.compile(r"/exports/(\d+)/")


def _fire(name: str, started: float, *, failed: str = "") -> None:
    """Report a span that is not one request (a code's arrival, an export's wait) as its own row."""
    events.request.fire(
        request_type="WAIT",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=RuntimeError(failed) if failed else None,
        context={},
    )


class _Outbox:
    """The SMS file read as it grows: the latest code sent to each phone, with a count of codes."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.codes = path, 0, {}
        self.lock = threading.Lock()

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as outbox:
            outbox.seek(self.offset)
            chunk = outbox.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.decode("utf-8").splitlines():
            _when, phone, text = line.split("\t", 2)
            found = re.search(r"\d{6}", text)
            if found:
                count = self.codes.get(phone, (0, ""))[0] + 1
                self.codes[phone] = (count, found.group(0))

    def seen(self, phone: str) -> int:
        with self.lock:
            self._read()
            return self.codes.get(phone, (0, ""))[0]

    def wait(self, phone: str, after: int, timeout: float = 30) -> str:
        """The code sent to ``phone`` after ``after`` codes, waiting for the worker to send it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                self._read()
                count, code = self.codes.get(phone, (0, ""))
            if count > after:
                return code
            time.sleep(0.2)
        return ""


OUTBOX = _Outbox(SMS_FILE)
_export_lock = threading.Lock()
_last_export = [0.0]


def _csrf(user: HttpUser) -> str:
    return user.client.cookies.get("csrftoken", "")


def _sign_in(user: HttpUser, username: str) -> None:
    user.client.get("/accounts/login/", name="staff: sign-in page")
    user.client.post(
        "/accounts/login/",
        {"username": username, "password": DATA["password"], "csrfmiddlewaretoken": _csrf(user)},
        name="staff: sign in",
    )


class Officer(HttpUser):
    """A union officer at work on the roll."""

    weight = 6
    wait_time = between(1, 4)

    def on_start(self) -> None:
        _sign_in(self, random.choice(DATA["officers"]))

    @task(6)
    def browse(self) -> None:
        """The roll's first page, then a few pages on by the "next" link."""
        page = self.client.get(MEMBERS, name="member list: first page").text
        for _ in range(random.randint(0, 3)):
            found = NEXT_LINK.search(page)
            if not found:
                break
            page = self.client.get(
                f"{MEMBERS}?{found.group(1).replace('&amp;', '&')}", name="member list: next page (link)"
            ).text

    @task(1)
    def last_page(self) -> None:
        self.client.get(MEMBERS, params={"page": "last"}, name="member list: last page")

    @task(2)
    def search_name(self) -> None:
        self.client.get(MEMBERS, params={"q": random.choice(DATA["names"])}, name="member list: search name")

    @task(2)
    def search_number(self) -> None:
        self.client.get(
            MEMBERS, params={"q": random.choice(DATA["numbers"])}, name="member list: search number"
        )

    @task(1)
    def search_id_number(self) -> None:
        self.client.get(
            MEMBERS, params={"q": random.choice(DATA["id_numbers"])}, name="member list: search ID number"
        )

    @task(4)
    def member_detail(self) -> None:
        self.client.get(f"{MEMBERS}{random.choice(DATA['members'])}/", name="member detail")

    @task(2)
    def people(self) -> None:
        self.client.get("/people/", name="people list: first page")

    @task(2)
    def person_detail(self) -> None:
        self.client.get(f"/people/{random.choice(DATA['people'])}/", name="person detail")

    @task(1)
    def figures(self) -> None:
        self.client.get("/membership/figures/", name="figures page")

    @task(1)
    def export(self) -> None:
        """The whole roll to Excel, at most one every EXPORT_EVERY seconds across the run."""
        with _export_lock:
            if time.monotonic() - _last_export[0] < EXPORT_EVERY:
                return
            _last_export[0] = time.monotonic()
        started = time.perf_counter()
        response = self.client.get(
            MEMBERS, params={"export": "xlsx"}, name="export: request", allow_redirects=False
        )
        found = EXPORT_PAGE.search(response.headers.get("Location", ""))
        if response.status_code != 302 or not found:
            return
        job = found.group(1)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            page = self.client.get(f"/exports/{job}/", name="export: progress page").text
            if f"/exports/{job}/download/" in page:
                _fire("export: until the file is ready", started)
                self.client.get(f"/exports/{job}/download/", name="export: download")
                return
            time.sleep(2)
        _fire("export: until the file is ready", started, failed="not ready in 600 s")


def _id_number() -> str:
    born = date(1966, 1, 1) + timedelta(days=random.randint(0, 365 * 38))
    body = f"110105{born:%Y%m%d}{random.randint(0, 999):03d}"
    return body + check_digit(body)


class Worker(HttpUser):
    """A worker scanning a union's join QR code and filling the form on a phone."""

    weight = 2
    wait_time = between(2, 6)

    @task
    def join(self) -> None:
        url = f"/join/{DATA['join_code']}/"
        self.client.get(url, name="join: form")
        with self.client.post(
            url,
            {
                "name": random.choice(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄丽"]),
                "id_number": _id_number(),
                "phone_number": f"139{random.randint(0, 99999999):08d}",
                "employer_name": "北京演示医院",
                "consent": "on",
                "csrfmiddlewaretoken": _csrf(self),
            },
            name="join: submit",
            catch_response=True,
        ) as response:
            if "join/status/" not in response.text:
                response.failure("no receipt with a status link")


class Desk(HttpUser):
    """A hospital's registration desk typing card numbers."""

    weight = 2
    wait_time = between(1, 3)

    def on_start(self) -> None:
        _sign_in(self, DATA["desk"])
        self.client.get("/membership/verify/", name="desk: verify page")

    @task
    def verify(self) -> None:
        number, last4 = random.choice(DATA["cards"])
        with self.client.post(
            "/membership/verify/",
            {
                "card_number": number,
                "id_last4": last4,
                "service_point": DATA["service_point"],
                "benefit": DATA["benefit"],
                "csrfmiddlewaretoken": _csrf(self),
            },
            headers={"HX-Request": "true"},
            name="desk: verify card by number",
            catch_response=True,
        ) as response:
            if "手工输入卡号次数过多" in response.text:
                response.failure("refused by the rate limit")


class Member(HttpUser):
    """A member signing in to the portal with the phone's SMS code."""

    weight = 1
    wait_time = between(3, 8)

    @task
    def sign_in(self) -> None:
        phone = random.choice(DATA["phones"])
        self.client.get("/portal/signin/", name="portal: sign-in page")
        before = OUTBOX.seen(phone)
        started = time.perf_counter()
        self.client.post(
            "/portal/signin/",
            {"phone": phone, "csrfmiddlewaretoken": _csrf(self)},
            name="portal: ask for code",
        )
        code = OUTBOX.wait(phone, before)
        _fire("portal: code arrives by SMS", started, failed="" if code else "no code in 30 s")
        if not code:
            return
        with self.client.post(
            "/portal/signin/code/",
            {"code": code, "csrfmiddlewaretoken": _csrf(self)},
            name="portal: sign in with code",
            catch_response=True,
        ) as response:
            if not response.url.rstrip("/").endswith("/portal"):
                response.failure(f"not signed in (ended on {response.url})")
                return
        self.client.get("/portal/card/", name="portal: e-card")
        self.client.post("/portal/signout/", {"csrfmiddlewaretoken": _csrf(self)}, name="portal: sign out")
