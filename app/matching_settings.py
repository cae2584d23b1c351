"""Settings of expert matching, invitation timers and notifications (sections of
`app.settings.Settings`: `SWARMDESK_MATCHING_`, `SWARMDESK_TIMERS_`, `SWARMDESK_NOTIFY_`).

The matching weights are documented in the README ("Who can help"): a suggestion's score
is the sum over factors of `weight * value`, each value in [0, 1] (recent declines count
against).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MatchingSettings(BaseSettings):
    """Weights and rules of `GET /api/cases/{id}/suggestions` (`SWARMDESK_MATCHING_`)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_MATCHING_", extra="ignore")

    skills: float = Field(default=4.0, ge=0, description="mean wanted-skill level / 5")
    interests: float = Field(default=1.0, ge=0, description="share of wanted skills of interest")
    availability: float = Field(default=1.0, ge=0, description="status: 1, .5, .25, 0")
    working_hours: float = Field(default=1.0, ge=0, description="1 within their hours now")
    online: float = Field(default=0.5, ge=0, description="1 with an inbox socket open now")
    load: float = Field(default=1.0, ge=0, description="1 - open swarms / capacity")
    reputation: float = Field(default=2.0, ge=0, description="points / (points + half)")
    recent_declines: float = Field(default=1.5, ge=0, description="subtracted: declines / 3")
    recent_days: float = Field(default=30.0, gt=0, description="what 'recent' means")
    reputation_half: float = Field(default=10.0, gt=0, description="points for reputation .5")
    points_accepted: float = Field(default=3.0, ge=0, description="per proposal accepted")
    points_cited: float = Field(default=2.0, ge=0, description="per insight cited by one")
    points_insight: float = Field(default=0.5, ge=0, description="per insight posted")
    points_help: float = Field(default=1.0, ge=0, description="per swarm joined unprompted")
    points_reused: float = Field(
        default=1.0,
        ge=0,
        description="per reuse of an article they wrote (each author) or a case they solved",
    )
    limit: int = Field(default=10, ge=1, le=100, description="suggestions answered by default")
    exact_cover_skills: int = Field(
        default=6, ge=0, le=10, description="the covering set is exact up to this many skills"
    )
    refresh_seconds: float = Field(
        default=0.25, ge=0, description="the agent directory reads newer documents this often"
    )


class TimerSettings(BaseSettings):
    """Durable timers: the process's one runner, for invitation expiry and SLA deadlines
    (`SWARMDESK_TIMERS_`; `app.service.timekeeper`)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_TIMERS_", extra="ignore")

    enabled: bool = Field(
        default=True, description="lead the timers here (invitation expiry, the SLA engine)"
    )
    poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="invitations read from the log this often; due timers looked for within",
    )
    skew_seconds: float = Field(
        default=0.0, description="the timers' clock runs this far ahead (tests, never production)"
    )


class NotifySettings(BaseSettings):
    """Outbound notifications: webhooks and e-mail (`SWARMDESK_NOTIFY_`)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_NOTIFY_", extra="ignore")

    enabled: bool = Field(default=True, description="run the notifier in this process")
    poll_seconds: float = Field(default=1.0, gt=0, description="how often due deliveries are read")
    concurrency: int = Field(default=128, ge=1, le=1024, description="deliveries in flight")
    per_subscriber: int = Field(
        default=32, ge=1, le=256, description="in flight per receiver (a hanging one holds these)"
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=60, description="per delivery")
    retry_hours: float = Field(default=25.0, gt=0, description="retried with back-off this long")
    retry_schedule: str = Field(
        default="5,300,1800,7200,18000,36000",
        description="seconds before each retry (the last one repeats until retry_hours)",
    )
    public_url: str = Field(default="", description="console links; default http://HOST:PORT")
    smtp_host: str = Field(default="", description="e-mail off when empty")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = Field(default=False)
    smtp_tls: bool = Field(default=False, description="implicit TLS (port 465)")
    smtp_username: str = Field(default="")
    smtp_password: SecretStr = Field(default=SecretStr(""))
    smtp_from: str = Field(default="swarmdesk@localhost")
