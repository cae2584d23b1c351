"""The service's start-up leaves the garbage collector as `app.gc_policy` says."""

from __future__ import annotations

import gc
from pathlib import Path

from pydantic import SecretStr

from app import gc_policy
from app.main import create_app
from app.settings import Settings
from app.store.migrate import upgrade_async


async def test_start_up_freezes_what_it_built_and_raises_the_young_threshold(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    await upgrade_async(url)
    settings = Settings(
        database_url=url, data_dir=tmp_path, secret_key=SecretStr("k" * 40), projector=False
    )
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    api = create_app(settings)
    try:
        assert gc.get_freeze_count() == 0
        async with api.router.lifespan_context(api):
            assert gc.get_threshold() == gc_policy.THRESHOLDS
            assert gc.get_threshold()[0] > 700
            assert gc.get_freeze_count() > 10_000  # modules, models, routes: frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
