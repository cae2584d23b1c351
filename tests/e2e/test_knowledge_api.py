"""Knowledge over real HTTP on both backends: draft from a resolved case by its owner
(refusals append nothing), edit keeping provenance, publish, search with highlights,
similar cases of a new case, reuse recorded and counted (for the article's authors too,
in their contribution and reputation), flag and retire, and `swarmdesk verify` finds the
views equal to a replay; hostile search queries answer 200 or a 422 problem, never a 500."""

from __future__ import annotations

import asyncio
import io
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import SecretStr
from rich.console import Console

from app.cli.views import run_verify
from app.settings import Settings
from domain import agent_id_for
from domain.actors import Role
from tests.e2e.commands_support import Api, api_for, assert_problem, stream_events, unique
from tests.e2e.server import Server


def solved(api: Api, owner: str, expert: str, subject: str, area: str) -> tuple[UUID, int]:
    """A case solved by `expert`'s accepted proposal; its id and last position."""
    case_id = api.open_case(owner, subject=subject, description="Users see it.", product_area=area)
    base = f"/api/cases/{case_id}"
    api.ok("POST", f"{base}/context", owner, {"kind": "environment", "text": "Kestrel 9 on ARM."})
    api.invite(case_id, owner, expert)
    api.ok("POST", f"{base}/participants", expert)
    insight = api.ok(
        "POST", f"{base}/insights", expert, {"kind": "finding", "text": "The codec lacks ARM."}
    )["insight_id"]
    proposal = api.ok(
        "POST",
        f"{base}/proposals",
        expert,
        {
            "summary": "Install the ARM codec.",
            "steps": ["Download it.", "Restart."],
            "cites": [insight],
        },
    )["proposal_id"]
    api.ok("POST", f"{base}/proposals/{proposal}/accept", owner)
    done = api.ok(
        "POST", f"{base}/resolve", owner, {"summary": "Codec installed.", "proposal_id": proposal}
    )
    return case_id, int(done["position"])


def test_draft_edit_publish_search_similar_reuse(server: Server) -> None:
    with api_for(server) as api:
        owner, expert, other, sup = (unique(n) for n in ("own", "exp", "oth", "sup"))
        word = unique("zq").replace("-", "")  # a word only this test's texts hold
        for who in (owner, expert):  # known agents: their profile shows their contribution
            api.ok("PUT", "/api/agents/me", who, {"name": who.title()})
        case_id, _ = solved(api, owner, expert, f"Video {word} stutters", "media")
        # refused: not the owner; an open case; nothing appended
        before = api.position()
        assert_problem(
            api.call("POST", f"/api/cases/{case_id}/article", expert), 403, "rule-violated"
        )
        fresh = api.open_case(owner, subject="Still open")
        assert_problem(api.call("POST", f"/api/cases/{fresh}/article", owner), 403, "rule-violated")
        assert_problem(api.call("POST", f"/api/cases/{case_id}/article", other), 404, "not-found")
        assert api.position() == before + 1  # only the open case

        response = api.call("POST", f"/api/cases/{case_id}/article", owner)
        assert response.status_code == 201, response.text
        article_id = response.json()["article_id"]
        assert response.headers["location"] == f"/api/articles/{article_id}"
        again = api.call("POST", f"/api/cases/{case_id}/article", owner)
        assert_problem(again, 409, "version-conflict")

        pos = response.json()["position"]
        doc = api.ok("GET", f"/api/articles/{article_id}?min_position={pos}", owner)
        assert doc["status"] == "draft"
        cause = doc["sections"]["cause"]
        assert [s["text"] for s in cause] == ["The codec lacks ARM."]
        assert cause[0]["source"]["event"] == "InsightPosted"
        assert cause[0]["source"]["stream_id"] == str(case_id)
        expert_id = cause[0]["source"]["author_id"]
        assert [s["text"] for s in doc["sections"]["resolution"]] == [
            "Install the ARM codec.",
            "Download it.",
            "Restart.",
        ]
        # a draft is its drafter's (and supervisors'): 404 to others
        assert_problem(api.call("GET", f"/api/articles/{article_id}", other), 404, "not-found")
        api.ok("GET", f"/api/articles/{article_id}", sup, role=Role.SUPERVISOR)

        edit = {
            "sections": {
                "resolution": "Install the ARM codec. Download it from the vendor. Restart."
            }
        }
        pos = api.ok("POST", f"/api/articles/{article_id}/edits", owner, edit)["position"]
        doc = api.ok("GET", f"/api/articles/{article_id}?min_position={pos}", owner)
        sources = [s["source"] for s in doc["sections"]["resolution"]]
        assert [s["event"] for s in sources] == [
            "ResolutionProposed",
            "Edited",
            "ResolutionProposed",
        ]
        assert sources[0]["author_id"] == expert_id
        assert sources[1]["version"] == 2
        assert sources[1]["was"]["event"] == "ResolutionProposed"

        pos = api.ok("POST", f"/api/articles/{article_id}/publish", owner)["position"]
        found = api.ok("GET", f"/api/search?q={word}&min_position={pos}", other)
        kinds = {(h["kind"], h["id"]) for h in found["hits"]}
        assert kinds == {("article", article_id), ("case", str(case_id))}
        assert all(f"<mark>{word}</mark>".lower() in h["highlight"].lower() for h in found["hits"])
        only = api.ok("GET", f"/api/search?q={word}&status=published&product_area=media", other)
        assert [h["id"] for h in only["hits"]] == [article_id]
        assert api.ok("GET", f"/api/search?q={word}&product_area=other", other)["hits"] == []

        # a new case like it: the similar ones are computed when it is opened
        new_case = api.open_case(
            other, subject=f"{word} video stutters again", product_area="media"
        )
        last = api.position()
        similar = api.ok("GET", f"/api/cases/{new_case}/similar?min_position={last}", other)
        assert article_id in [h["id"] for h in similar["hits"]]
        assert_problem(api.call("GET", f"/api/cases/{new_case}/similar", expert), 404, "not-found")

        # linking it records a reuse, counted once per case, and for each author
        authors = {owner: agent_id_for(owner), expert: agent_id_for(expert)}
        before_reuse = {who: api.ok("GET", f"/api/agents/{a}", other) for who, a in authors.items()}
        link = {"case_id": str(new_case)}
        pos = api.ok("POST", f"/api/articles/{article_id}/reuses", other, link)["position"]
        for who, agent in authors.items():
            now = api.ok("GET", f"/api/agents/{agent}?min_position={pos}", other)
            was = before_reuse[who]
            assert now["contribution"]["articles_reused"] == 1
            assert was["contribution"].get("articles_reused", 0) == 0
            assert now["reputation"]["points"] == was["reputation"]["points"] + 1.0

        assert_problem(
            api.call("POST", f"/api/articles/{article_id}/reuses", other, json=link), 403
        )
        assert_problem(  # a case the caller cannot see
            api.call("POST", f"/api/articles/{article_id}/reuses", expert, json=link), 404
        )
        doc = api.ok("GET", f"/api/articles/{article_id}?min_position={pos}", other)
        assert (doc["reuse_count"], doc["standing"]) == (1, 1)
        assert doc["reuses"][0]["case_id"] == str(new_case)

        flag = {"reason": "Step 2 fails on Kestrel 10."}
        api.ok("POST", f"/api/articles/{article_id}/flags", expert, flag)
        assert_problem(api.call("POST", f"/api/articles/{article_id}/retire", other), 403)
        pos = api.ok("POST", f"/api/articles/{article_id}/retire", owner)["position"]
        found = api.ok("GET", f"/api/search?q={word}&kind=article&min_position={pos}", other)
        assert found["hits"] == []
        names = stream_events(server, UUID(article_id))
        assert names == ["Drafted", "Edited", "Published", "Reused", "Flagged", "Retired"]
        # `swarmdesk verify`: the stored views (contributions included) equal a replay
        assert asyncio.run(_verify(server)) == (0, "")
        listed = api.ok("GET", f"/api/articles?case_id={case_id}", owner)
        assert [a["article_id"] for a in listed] == [article_id]
        assert "sections" not in listed[0]


def test_a_solved_case_reused_counts_for_who_solved_it(server: Server) -> None:
    with api_for(server) as api:
        owner, expert, other, stranger = (unique(n) for n in ("own", "exp", "oth", "str"))
        word = unique("zr").replace("-", "")
        for who in (owner, expert):
            api.ok("PUT", "/api/agents/me", who, {"name": who.title()})
        solved_id, _ = solved(api, owner, expert, f"Audio {word} drops", "media")
        new_case = api.open_case(other, subject=f"{word} audio drops again", product_area="media")
        last = api.position()
        similar = api.ok("GET", f"/api/cases/{new_case}/similar?min_position={last}", other)
        assert ("case", str(solved_id)) in [(h["kind"], h["id"]) for h in similar["hits"]]

        # the owner of the open case links it: counted for the owner and the expert
        solvers = {owner: agent_id_for(owner), expert: agent_id_for(expert)}
        before = {who: api.ok("GET", f"/api/agents/{a}", other) for who, a in solvers.items()}
        link = {"case_id": str(new_case)}
        done = api.ok("POST", f"/api/cases/{solved_id}/reuses", other, link)
        pos = done["position"]
        assert done["case_id"] == str(solved_id)
        for who, agent in solvers.items():
            now = api.ok("GET", f"/api/agents/{agent}?min_position={pos}", other)
            assert now["contribution"]["cases_reused"] == 1
            assert before[who]["contribution"].get("cases_reused", 0) == 0
            assert now["reputation"]["points"] == before[who]["reputation"]["points"] + 1.0
        view = api.ok("GET", f"/api/cases/{solved_id}?min_position={pos}", owner)
        assert view["reuse_count"] == 1
        assert view["timeline"][-1]["type"] == "SolutionReused"
        found = api.ok("GET", f"/api/search?q={word}&kind=case&min_position={pos}", other)
        assert [(h["id"], h["reuse_count"]) for h in found["hits"]] == [(str(solved_id), 1)]

        # refused, nothing appended: twice for one case; a case the caller cannot see
        # (404); an open case as the solution (not solved: 404 to a stranger, a rule to a
        # participant); a service
        at = api.position()
        assert_problem(api.call("POST", f"/api/cases/{solved_id}/reuses", other, json=link), 403)
        assert_problem(api.call("POST", f"/api/cases/{solved_id}/reuses", stranger, json=link), 404)
        theirs = {"case_id": str(api.open_case(stranger, subject="Mine"))}
        assert_problem(
            api.call("POST", f"/api/cases/{new_case}/reuses", stranger, json=theirs), 404
        )
        mine = {"case_id": str(api.open_case(other, subject="Also mine"))}
        assert_problem(
            api.call("POST", f"/api/cases/{new_case}/reuses", other, json=mine),
            403,
            "rule-violated",
        )
        service = api.call(
            "POST", f"/api/cases/{solved_id}/reuses", "bot", json=mine, role=Role.SERVICE
        )
        assert_problem(service, 403)
        assert api.position() == at + 2  # the two cases opened
        assert stream_events(server, solved_id)[-1] == "SolutionReused"
        assert asyncio.run(_verify(server)) == (0, "")


async def _verify(server: Server) -> tuple[int, str]:
    settings = Settings(
        database_url=server.database_url,
        database_schema=server.schema,
        secret_key=SecretStr("verify-secret-key-that-is-long-enough-0"),
        data_dir=Path(tempfile.mkdtemp()),
    )
    out = io.StringIO()
    differences = await run_verify(settings, Console(file=out, width=200))
    return differences, out.getvalue() if differences else ""


HOSTILE: list[Any] = [
    '"',
    "sso & | ! <-> :* ( ) login",
    "'; DROP TABLE search_docs; --",
    "логин не работает",
    "登录失败",
    "%00%01",
    "x" * 1_999,
    "NEAR(a b) OR title:x*",
]


def test_hostile_search_queries_never_fail(server: Server) -> None:
    with api_for(server) as api:
        agent = unique("searcher")
        for q in HOSTILE:
            response = api.http.get("/api/search", params={"q": q}, headers=api.auth(agent))
            assert response.status_code == 200, (q, response.text)
        too_long = api.http.get("/api/search", params={"q": "y" * 2_001}, headers=api.auth(agent))
        assert_problem(too_long, 422)
        bad = api.http.get(
            "/api/search", params={"q": "a", "status": "nope"}, headers=api.auth(agent)
        )
        assert_problem(bad, 422)
        assert_problem(api.http.get("/api/search", params={"q": "a"}), 401)
