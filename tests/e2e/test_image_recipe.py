"""The Dockerfile's recipe, run without Docker (these machines have no Docker daemon and
no registry to pull `python:3.11-slim` from): the wheel `pip install .` builds from the
files the Dockerfile copies holds every module and migration; started from that wheel
alone, away from the source tree, `swarmdesk serve --migrate` (the image's command)
migrates the embedded database and serves, the console included; the image's HEALTHCHECK
command, run as written, passes against it; the image runs as a non-root user.

The console stage (`COPY --from=console`) is taken from this checkout's build of the same
recipe (`scripts/console.sh`, which the test command runs first)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx

from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
CONSOLE = "app/http/console_assets"


def instruction(name: str, stage: str = "base") -> list[str]:
    """The arguments of every `name` instruction of the stage `AS <stage>`, continuation
    lines joined."""
    text = DOCKERFILE.split(f" AS {stage}\n", 1)[1].split("\nFROM ", 1)[0]
    joined = text.replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.*)$", joined, re.M)]


def test_the_image_runs_as_a_non_root_user_and_checks_readyz() -> None:
    (user,) = instruction("USER")
    assert user not in ("root", "0")
    (check,) = instruction("HEALTHCHECK")
    assert "/readyz" in check
    assert instruction("ENTRYPOINT") == ['["swarmdesk"]']
    assert instruction("CMD") == ['["serve", "--migrate"]']


def test_the_image_recipe_builds_a_wheel_that_migrates_and_serves(tmp_path: Path) -> None:
    # the build context the Dockerfile copies, and nothing else
    context = tmp_path / "context"
    context.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "console_assets", "node_modules")
    for line in instruction("COPY"):
        *sources, target = line.split()
        if sources[0] == "--from=console":  # the Node stage's output: the local build
            assert sources[1] == f"/src/{CONSOLE}"
            assert target == CONSOLE
            shutil.copytree(ROOT / CONSOLE, context / CONSOLE, ignore=skip)
            continue
        for source in sources:
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, context / source, ignore=skip)
            else:
                shutil.copy(ROOT / source, context / source)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(context)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("swarmdesk-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(site)
    modules = (
        "app/cli/__init__.py",
        "app/server/entry.py",
        "app/bootstrap.py",
        "migrations/env.py",
    )
    for module in modules:
        assert module in names
    assert f"{CONSOLE}/index.html" in names
    assets = [n for n in names if n.startswith(f"{CONSOLE}/assets/")]
    assert any(n.endswith(".js") for n in assets), assets
    for version in (ROOT / "migrations" / "versions").glob("0*.py"):
        assert f"migrations/versions/{version.name}" in names

    # the image's command, from the wheel alone (cwd and sys.path away from the source)
    port = free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARMDESK_")}
    env.update(SWARMDESK_DATA_DIR=str(data), SWARMDESK_PORT=str(port), SWARMDESK_HOST="127.0.0.1")
    env["SWARMDESK_LOG_LEVEL"] = "warning"
    # `-S`: no site processing, so not this checkout's editable install either; the
    # dependencies come from this environment's site-packages, the project from the wheel
    env["PYTHONPATH"] = os.pathsep.join([str(site), sysconfig.get_paths()["purelib"]])
    launcher = (
        "import sys, app, domain, projections, migrations; "
        f"assert all(m.__file__.startswith({str(site)!r}) "
        "for m in (app, domain, projections, migrations)); "
        "from app.cli import main; sys.argv = ['swarmdesk', 'serve', '--migrate']; main()"
    )
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-S", "-c", launcher], cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert (data / "swarmdesk.db").exists()  # migrated: the embedded default
        page = httpx.get(f"http://127.0.0.1:{port}/cases/1", timeout=5)
        script = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
        assert page.status_code == 200
        assert script is not None, page.text
        asset = httpx.get(f"http://127.0.0.1:{port}{script.group(1)}", timeout=5)
        assert asset.status_code == 200
        (check,) = instruction("HEALTHCHECK")
        command = shlex.split(check.split(" CMD ", 1)[1].replace("8000", str(port)))
        assert command[0] == "python"
        healthy = subprocess.run([sys.executable, *command[1:]], timeout=30)
        assert healthy.returncode == 0
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    # uvicorn shuts down gracefully, then re-raises the signal it caught (so a process
    # manager sees a SIGTERM exit): either way nothing failed on the way out
    assert server.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Traceback" not in log.read_text()
