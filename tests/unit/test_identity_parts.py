"""Identity parts without I/O: the agent id of a subject, the OIDC settings, the roles
claim (dotted paths, the role map, the ranking), cookies and the cross-site check."""

from __future__ import annotations

import json
import uuid

import pytest
from eventsourcing.persistence import StoredEvent
from pydantic import ValidationError

from app.auth.callers import Callers, CrossSiteRefused, cookie_value
from app.auth.oidc import OIDCVerifier, claim_at
from app.auth.tokens import AuthError, TokenIssuer
from app.settings import OIDCSettings
from app.store.codec import create_mapper
from domain.actors import Role
from domain.agent import AGENT_NAMESPACE, Agent, agent_id_for

ISSUER = "https://idp.example/realms/support"


def verifier(**settings: str) -> OIDCVerifier:
    oidc = OIDCSettings(issuer=ISSUER, audience="swarmdesk", **settings)  # type: ignore[arg-type]
    return OIDCVerifier(oidc, {"jwks_uri": ISSUER + "/certs"})  # no I/O until refresh()


def test_a_uuid_subject_is_the_agent_id_and_others_are_derived() -> None:
    subject = uuid.uuid4()
    assert agent_id_for(str(subject)) == subject
    assert agent_id_for(str(subject).upper()) == subject
    assert agent_id_for("ana") == uuid.uuid5(AGENT_NAMESPACE, "ana")
    # not canonical: derived, as before (so no other spelling can claim the id)
    assert agent_id_for(subject.hex) == uuid.uuid5(AGENT_NAMESPACE, subject.hex)
    assert agent_id_for("{" + str(subject) + "}") != subject


def test_oidc_settings_need_an_audience_and_a_well_formed_map() -> None:
    assert not OIDCSettings().enabled
    with pytest.raises(ValidationError, match="AUDIENCE"):
        OIDCSettings(issuer=ISSUER)
    with pytest.raises(ValidationError, match="ROLE_MAP"):
        OIDCSettings(issuer=ISSUER, audience="a", role_map="admins")
    mapped = OIDCSettings(issuer=ISSUER, audience="a", role_map="swarm-admins=admin, x = agent")
    assert mapped.roles() == {"swarm-admins": "admin", "x": "agent"}


def test_oidc_sections_read_their_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMDESK_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("SWARMDESK_OIDC_AUDIENCE", "swarmdesk")
    monkeypatch.setenv("SWARMDESK_OIDC_ROLES_CLAIM", "realm_access.roles")
    settings = OIDCSettings()
    assert (settings.enabled, settings.roles_claim) == (True, "realm_access.roles")


def test_roles_by_dotted_path_mapped_and_ranked() -> None:
    claims = {"realm_access": {"roles": ["offline_access", "swarm-agents", "swarm-admins"]}}
    assert claim_at(claims, "realm_access.roles") == claims["realm_access"]["roles"]
    assert claim_at(claims, "realm_access.nothing.deeper") is None
    mapped = verifier(
        roles_claim="realm_access.roles", role_map="swarm-agents=agent,swarm-admins=admin"
    )
    assert mapped.role(claims) is Role.ADMIN  # the highest mapped role
    with pytest.raises(AuthError, match="no role"):
        mapped.role({"realm_access": {"roles": ["admin"]}})  # mapped names only
    plain = verifier()  # no map: our role names, from `roles`, a list or a string
    assert plain.role({"roles": ["agent"]}) is Role.AGENT
    assert plain.role({"roles": "supervisor"}) is Role.SUPERVISOR
    with pytest.raises(AuthError):
        plain.role({"roles": ["root"]})
    with pytest.raises(AuthError):
        plain.role({})


def test_only_asymmetric_algorithms_are_accepted() -> None:
    assert verifier(algorithms="RS256,HS256,none").algorithms == ["RS256"]
    with pytest.raises(ValueError, match="asymmetric"):
        verifier(algorithms="HS256")


def test_session_cookie_parsing() -> None:
    headers = [(b"cookie", b"a=1; swarmdesk_session=abc; b=2"), (b"host", b"x")]
    assert cookie_value(headers, "swarmdesk_session") == "abc"
    assert cookie_value(headers, "missing") is None
    assert cookie_value([(b"cookie", b"swarmdesk_session=")], "swarmdesk_session") is None


def test_the_cross_site_check() -> None:
    sessions = None  # the check needs no session store
    callers = Callers(
        TokenIssuer("s" * 32),
        sessions,  # type: ignore[arg-type]
        "sid",
        frozenset({"https://console.example"}),
    )
    host = (b"host", b"desk.example")
    callers.check_origin([host, (b"origin", b"https://desk.example")], "https")
    callers.check_origin([host, (b"origin", b"https://desk.example")], "wss")
    callers.check_origin([host, (b"origin", b"https://console.example")], "https")
    for headers in (
        [host],  # no Origin
        [host, (b"origin", b"https://evil.example")],
        [host, (b"origin", b"http://desk.example")],  # another scheme is another origin
        [host, (b"origin", b"https://desk.example"), (b"origin", b"https://desk.example")],
    ):
        with pytest.raises(CrossSiteRefused):
            callers.check_origin(headers, "https")


def test_agents_record_the_subject_and_old_registrations_read_as_none() -> None:
    mapper = create_mapper()
    subject = str(uuid.uuid4())
    agent = Agent.register(agent_id_for(subject), name="Kim", subject=subject)
    (registered,) = agent.collect_events()
    stored = mapper.to_stored_event(registered)
    assert (agent.subject, stored.topic.endswith("Agent.Registered")) == (subject, True)
    # the same event as version 1 stored it: no subject, class_version 1
    state = json.loads(stored.state)
    del state["subject"]
    state["class_version"] = 1
    old = StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode()
    )
    decoded = mapper.to_domain_event(old)
    assert isinstance(decoded, Agent.Registered)
    assert decoded.subject == ""
    assert mapper.to_domain_event(stored).subject == subject  # type: ignore[attr-defined]
