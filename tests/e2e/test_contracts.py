"""The published contracts, checked on what a real server serves: `/asyncapi.json` by the
official AsyncAPI parser (npm `@asyncapi/parser`, `tools/asyncapi`), push frames against
its schemas, `/openapi.json` by `openapi-spec-validator` and against what it promises."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
from openapi_spec_validator import validate

from app.realtime.push.protocol import HEARTBEAT
from tests.e2e.push_support import add_context, open_case, ws_connect
from tests.e2e.server import Server

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "asyncapi"


def official_parser(doc: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """What `@asyncapi/parser` says of `doc`: `{"errors": [...], "warnings": n}`."""
    node = shutil.which("node")
    assert node, "node is needed (the test command installs the parser with npm)"
    assert (TOOL / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "run `npm ci --prefix tools/asyncapi` (scripts/test.sh does)"
    )
    path = tmp_path / f"asyncapi-{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(doc))
    run = subprocess.run(
        [node, str(TOOL / "validate.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    assert run.returncode == (1 if result["errors"] else 0), run.stderr
    return result


def test_the_official_parser_accepts_the_public_asyncapi_document(
    server: Server, tmp_path: Path
) -> None:
    answer = httpx.get(f"{server.base_url}/asyncapi.json")  # no token: public
    assert answer.status_code == 200
    doc = answer.json()
    assert official_parser(doc, tmp_path)["errors"] == []
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {
        "/ws/events",
        "/api/events/stream",
        "/ws/cases/{caseId}",
        "/ws/inbox",
        "/ws/mycases",
        "/ws/cases",
        "/ws/swarms",
    }
    for channel in ("caseView", "inbox", "eventsWebSocket", "myCases", "allCases", "swarmBoard"):
        codes = doc["channels"][channel]["x-close-codes"]
        assert {"4401", "4008", "1012"} <= set(codes), channel
        assert "4008" in doc["channels"][channel]["description"]
    # and the check can fail: the dangling `#/definitions/...` refs the document once had
    broken = copy.deepcopy(doc)
    schema = broken["components"]["schemas"]["InsightPostedEvent"]
    schema["properties"]["data"] = {"$ref": "#/definitions/InsightPostedData"}
    assert official_parser(broken, tmp_path)["errors"]


def _validators(server: Server) -> dict[str, jsonschema.Draft7Validator]:
    doc = httpx.get(f"{server.base_url}/asyncapi.json").json()
    return {
        name: jsonschema.Draft7Validator(
            {"allOf": [message["payload"]], "components": doc["components"]}
        )
        for name, message in doc["components"]["messages"].items()
    }


async def test_push_frames_match_the_published_schemas(server: Server) -> None:
    checks = _validators(server)
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
        async with ws_connect(server, f"/ws/cases/{case_id}", owner) as ws:
            snapshot = orjson.loads(await ws.recv())
            await add_context(http, server, owner, case_id, "contract")
            patch = orjson.loads(await ws.recv())
        async with ws_connect(server, f"/ws/cases/{case_id}?presence=1", owner) as ws:
            await ws.recv()  # the snapshot
            presence = orjson.loads(await ws.recv())
        async with ws_connect(server, "/ws/inbox", owner) as ws:
            inbox = orjson.loads(await ws.recv())
        async with ws_connect(server, "/ws/mycases", owner) as ws:
            listed = orjson.loads(await ws.recv())
            await add_context(http, server, owner, case_id, "listed")
            list_patch = orjson.loads(await ws.recv())
    checks["PushSnapshot"].validate(listed)
    checks["PushPatch"].validate(list_patch)
    checks["PushPresence"].validate(presence)
    checks["PushSnapshot"].validate(snapshot)
    checks["PushSnapshot"].validate(inbox)
    checks["PushPatch"].validate(patch)
    checks["PushHeartbeat"].validate(json.loads(HEARTBEAT))
    assert not checks["PushPatch"].is_valid(snapshot)  # the schemas can refuse


def test_openapi_validates_and_says_what_the_service_answers(server: Server) -> None:
    doc = httpx.get(f"{server.base_url}/openapi.json").json()
    validate(doc)  # openapi-spec-validator
    schemas = doc["components"]["schemas"]
    assert "Problem" in schemas
    assert "HTTPValidationError" not in schemas
    text = json.dumps(doc)
    assert text.count('"detail": {"type": "string"}') == 1  # the problem schema, once
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            op_id = operation["operationId"]
            assert not op_id.endswith(f"_{method}"), op_id
            assert "__" not in op_id, op_id
            responses = operation["responses"]
            assert "500" in responses, op_id
            if path.startswith("/api/"):
                assert operation.get("security"), op_id
                assert {"401", "503"} <= set(responses), op_id
            for status, response in responses.items():
                assert "X-Request-ID" in response["headers"], (op_id, status)
                if int(status) >= 400:
                    content = response["content"]["application/problem+json"]
                    assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "Location" in doc["paths"]["/api/cases"]["post"]["responses"]["201"]["headers"]
    feed = doc["paths"]["/api/events"]["get"]["responses"]
    assert "Swarmdesk-Next-Position" in feed["200"]["headers"]
    assert "403" in feed


def test_a_query_answers_the_422_its_document_declares(server: Server) -> None:
    answer = httpx.get(f"{server.base_url}/api/cases/not-a-uuid", headers=server.headers("someone"))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    schema = httpx.get(f"{server.base_url}/openapi.json").json()["components"]["schemas"]
    jsonschema.validate(problem, schema["Problem"])
