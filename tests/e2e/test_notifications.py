"""Notifications on a real server (both backends) to real receivers: Standard Webhooks
signatures verified with the `standardwebhooks` package, retries after 500s and
timeouts with the same webhook-id, a hanging receiver that delays no one else, no
duplicates beyond retries, the delivery log, replay from a position, quiet hours, and
e-mail through a real SMTP server (aiosmtpd) with the deep link; bad input."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from domain import agent_id_for
from tests.e2e.commands_support import Api, api_for, assert_problem, unique
from tests.e2e.server import Server, running_server
from tests.receivers import Receiver, http_receiver, smtp_server


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def notified(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Receiver, Any]]:
    behaviour = {"/flaky": 2, "/hang": "hang"}
    with (
        http_receiver(behaviour) as receiver,
        smtp_server() as (smtp_port, mailbox),
        running_server(
            request.param,
            Path(tmp_path_factory.mktemp(f"notify-{request.param}")),
            SWARMDESK_NOTIFY_POLL_SECONDS="0.1",
            SWARMDESK_NOTIFY_RETRY_SCHEDULE="0.3",
            SWARMDESK_NOTIFY_TIMEOUT_SECONDS="1",
            SWARMDESK_NOTIFY_SMTP_HOST="127.0.0.1",
            SWARMDESK_NOTIFY_SMTP_PORT=str(smtp_port),
        ) as server,
    ):
        yield server, receiver, mailbox


def _wait(
    check: Callable[[], bool], seconds: float = 30.0, why: Callable[[], Any] = lambda: ""
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not in time: {why()}")


def _subscribe(api: Api, who: str, url: str, role: str = "agent", **extra: Any) -> Any:
    response = api.call("POST", "/api/webhooks", who, role=role, json={"url": url, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_webhooks_and_email(notified: tuple[Server, Receiver, Any]) -> None:
    server, receiver, mailbox = notified
    owner, ada, quiet = unique("owner"), unique("ada"), unique("quiet")
    hour = datetime.now(UTC).hour
    with api_for(server) as api:
        api.ok("PUT", "/api/agents/me", owner, {"name": "Olga"})
        profile = {"channels": ["webhook", "email"], "email": f"{ada}@example.com"}
        api.ok("PUT", "/api/agents/me", ada, profile)
        quiet_hours = f"{hour:02d}:00-{(hour + 2) % 24:02d}:00"  # now, in UTC
        api.ok("PUT", "/api/agents/me", quiet, {"channels": ["webhook"],
                                                "quiet_hours": quiet_hours})  # fmt: skip
        flaky = _subscribe(api, ada, receiver.url("/flaky"), events=["invitation"])
        held = _subscribe(api, quiet, receiver.url("/quiet"))
        tag = unique("all")
        every = _subscribe(api, "root", receiver.url(f"/all/{tag}"), "admin", all_agents=True)
        hang = _subscribe(api, "root", receiver.url("/hang"), "admin", all_agents=True,
                          events=["invitation"])  # fmt: skip
        assert every["secret"].startswith("whsec_")
        assert "secret" not in api.ok("GET", "/api/webhooks", ada)[0]
        case_id = api.open_case(owner)
        api.invite(case_id, owner, ada)
        api.invite(case_id, owner, quiet)
        # the flaky receiver: two 500s, then accepted; one webhook-id throughout
        _wait(lambda: len(receiver.at("/flaky")) == 3)
        got = receiver.at("/flaky")
        assert len({r.headers["webhook-id"] for r in got}) == 1
        for r in got:
            body = Webhook(flaky["secret"]).verify(r.body, r.headers)
            assert body["type"] == "swarmdesk.invitation"
            assert body["link"].endswith(f"/cases/{case_id}")
            assert body["agent_id"] == str(agent_id_for(ada))
        with pytest.raises(Exception, match="signature"):
            Webhook(every["secret"]).verify(got[0].body, got[0].headers)
        # every agent's receiver: both invitations, once each, despite the hanging one
        _wait(lambda: len(receiver.at(f"/all/{tag}")) == 2, why=lambda: _log(api, every["id"]))
        all_got = receiver.at(f"/all/{tag}")
        for r in all_got:
            Webhook(every["secret"]).verify(r.body, r.headers)
        ids = [r.headers["webhook-id"] for r in all_got]
        assert len(set(ids)) == 2
        # e-mail through the real SMTP server, with the deep link
        _wait(lambda: any(f"{ada}@example.com" in to for to, _ in mailbox.messages))
        (mail,) = [m for to, m in mailbox.messages if f"{ada}@example.com" in to]
        assert "invited" in mail["Subject"]
        assert f"/cases/{case_id}" in mail.get_payload(decode=True).decode()
        # the delivery log (the outcome is written just after the answer)
        _wait(lambda: _log(api, flaky["id"])[0]["status"] == "delivered")
        log = api.ok("GET", f"/api/webhooks/{flaky['id']}/deliveries", ada)
        assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [
            ("delivered", 3, "204")
        ]
        _wait(lambda: _log(api, hang["id"])[0]["attempts"] >= 1)
        assert _log(api, hang["id"])[0]["status"] == "pending"
        assert _log(api, hang["id"])[0]["last_status"] == "timeout"
        # quiet hours: held until they end (no attempt yet)
        (waiting,) = api.ok("GET", f"/api/webhooks/{held['id']}/deliveries", quiet)
        assert waiting["status"] == "pending"
        assert waiting["attempts"] == 0
        assert waiting["next_at"] > time.time() + 3000
        assert receiver.at("/quiet") == []
        # replay from a position: the same ids again
        first_position = _log(api, every["id"])[0]["position"]
        replayed = api.call("POST", f"/api/webhooks/{every['id']}/replay", "root", role="admin",
                            json={"after": first_position})  # fmt: skip
        assert replayed.json() == {"deliveries": 1}
        _wait(lambda: len(receiver.at(f"/all/{tag}")) == 3)
        counts = Counter(r.headers["webhook-id"] for r in receiver.at(f"/all/{tag}"))
        assert sorted(counts.values()) == [1, 2]
        assert counts[_log(api, every["id"])[1]["id"]] == 2  # the later one, replayed


def _log(api: Api, sub_id: str) -> list[dict[str, Any]]:
    response = api.call("GET", f"/api/webhooks/{sub_id}/deliveries", "root", role="admin")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def test_webhook_bad_input(notified: tuple[Server, Receiver, Any]) -> None:
    server, receiver, _ = notified
    me, other = unique("me"), unique("other")
    with api_for(server) as api:
        bad = ["ftp://example.com/hook", "not a url", f"{server.base_url}/api/cases",
               f"http://localhost:{server.port}/x", "http://user:pw@example.com/x"]  # fmt: skip
        for url in bad:
            assert_problem(api.call("POST", "/api/webhooks", me, json={"url": url}), 422)
        body: dict[str, Any] = {"url": receiver.url("/x"), "events": ["nope"]}
        assert_problem(api.call("POST", "/api/webhooks", me, json=body), 422)
        body = {"url": receiver.url("/x"), "all_agents": True}
        assert_problem(api.call("POST", "/api/webhooks", me, json=body), 403)
        mine = _subscribe(api, me, receiver.url("/mine"))
        missing = "00000000-0000-4000-8000-0000000000aa"
        for sub in (missing, mine["id"]):
            who = me if sub == missing else other
            assert_problem(api.call("GET", f"/api/webhooks/{sub}/deliveries", who), 404)
            body = {"after": 0}
            assert_problem(api.call("POST", f"/api/webhooks/{sub}/replay", who, json=body), 404)
            assert_problem(api.call("DELETE", f"/api/webhooks/{sub}", who), 404)
        assert api.call("DELETE", f"/api/webhooks/{mine['id']}", me).status_code == 204
        assert api.ok("GET", "/api/webhooks", me) == []


def test_the_next_hour_is_not_quiet() -> None:
    """The quiet-hours span the test uses really covers 'now' (guards the test itself)."""
    from domain.schedule import DAYS, parse_span, within

    now = datetime.now(UTC)
    span = parse_span(f"{now.hour:02d}:00-{(now.hour + 2) % 24:02d}:00")
    assert within(span, DAYS, "UTC", now)
    assert within(span, DAYS, "UTC", now + timedelta(minutes=50))


def test_a_decided_proposal_notifies_its_author(notified: tuple[Server, Receiver, Any]) -> None:
    """Accepted or rejected, the proposal's author hears of it: the outbox finds the
    proposal in its item row (the stored case document holds only its core)."""
    server, receiver, _ = notified
    owner, ada = unique("owner"), unique("ada")
    with api_for(server) as api:
        api.ok("PUT", "/api/agents/me", ada, {"channels": ["webhook"]})
        sub = _subscribe(api, ada, receiver.url(f"/decided/{ada}"), events=["proposal_decided"])
        case_id = api.open_case(owner)
        base = f"/api/cases/{case_id}"
        api.invite(case_id, owner, ada)
        api.ok("POST", base + "/participants", ada)
        insight = api.ok("POST", base + "/insights", ada, {"kind": "finding", "text": "x"})
        cites = {"summary": "s", "cites": [insight["insight_id"]]}
        first = api.ok("POST", base + "/proposals", ada, cites)["proposal_id"]
        second = api.ok("POST", base + "/proposals", ada, cites)["proposal_id"]
        api.ok("POST", f"{base}/proposals/{first}/reject", owner, {"reason": "not yet"})
        api.ok("POST", f"{base}/proposals/{second}/accept", owner)
        _wait(lambda: len(receiver.at(f"/decided/{ada}")) == 2, why=lambda: _log(api, sub["id"]))
        bodies = [
            Webhook(sub["secret"]).verify(r.body, r.headers) for r in receiver.at(f"/decided/{ada}")
        ]
        assert sorted((b["data"]["proposal_id"], b["data"]["decision"]) for b in bodies) == sorted(
            [(first, "rejected"), (second, "accepted")]
        )
        assert {b["type"] for b in bodies} == {"swarmdesk.proposal_decided"}
