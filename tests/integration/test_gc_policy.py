"""The GC policy (`app.server.gc`) applies under `swarmdesk serve` only: an app built with
the serve tweaks freezes start-up and raises the young threshold; an app built as tests
build it leaves the collector alone."""

from __future__ import annotations

import gc
from pathlib import Path

from pydantic import SecretStr

from app.http.app import create_app
from app.server import gc as gc_policy
from app.server.tweaks import Tweaks, probe
from app.settings import ProjectorSettings, Settings
from app.store.migrate import upgrade_async


async def _start(tmp_path: Path, tweaks: Tweaks | None) -> tuple[tuple[int, ...], int]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    await upgrade_async(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key=SecretStr("k" * 40),
        projector=ProjectorSettings(enabled=False),
    )
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    api = create_app(settings, tweaks=tweaks)
    try:
        assert gc.get_freeze_count() == 0
        async with api.router.lifespan_context(api):
            return gc.get_threshold(), gc.get_freeze_count()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


async def test_serve_freezes_what_start_up_built_and_raises_the_young_threshold(
    tmp_path: Path,
) -> None:
    tweaks = probe(serve=True)
    assert tweaks.gc_policy.active
    threshold, frozen = await _start(tmp_path, tweaks)
    assert threshold == gc_policy.THRESHOLDS
    assert threshold[0] > 700
    assert frozen > 10_000  # modules, models, routes: frozen


async def test_an_app_built_for_tests_leaves_the_collector_alone(tmp_path: Path) -> None:
    threshold, frozen = await _start(tmp_path, None)
    assert threshold == (700, 10, 10)
    assert frozen == 0
