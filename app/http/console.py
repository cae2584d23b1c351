"""The swarm console (`console/`, built by Vite into `app/http/console_assets/`, shipped as
package data): its page at `/` and at each of the console's own paths (deep links such as
`/cases/{id}` open the app, which routes in the browser), its files under `/assets/`.

The page and its files come from this server only (the CSP allows nothing else). Hashed
asset names never change content, so they are cached for a year; the page is not cached,
so a new build is picked up at the next load. Without a build (a checkout where
`scripts/bootstrap.sh` has not run), `/` says how to build it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS = Path(__file__).with_name("console_assets")
# The console's screens (console/src/routes.ts): the page is served at each of them.
CONSOLE_PATHS = ("/", "/inbox", "/board", "/supervisor", "/outcomes", "/knowledge")
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Swarmdesk</title></head>
<body><h1>Swarmdesk</h1><p>The console is not built in this checkout: run
<code>bash scripts/bootstrap.sh</code> (it needs Node.js and npm). The API is at
<a href="/docs">/docs</a>.</p></body></html>
"""
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}

router = APIRouter(include_in_schema=False)


async def console_page() -> Response:
    index = ASSETS / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, headers={"Cache-Control": "no-store"})
    return HTMLResponse(index.read_bytes(), headers={"Cache-Control": "no-cache"})


for _path in CONSOLE_PATHS:
    router.add_api_route(_path, console_page, methods=["GET"], response_class=HTMLResponse)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_room_page(case_id: Annotated[str, PathParam(max_length=64)]) -> Response:
    """A deep link to a case room (from a notification): the app opens the room."""
    return await console_page()


@router.get("/assets/{name}")
async def asset(name: Annotated[str, PathParam(max_length=200)]) -> Response:
    """One built file (flat names only: no path leaves the assets folder)."""
    path = ASSETS / "assets" / name
    kind = TYPES.get(path.suffix)
    if "/" in name or name.startswith(".") or kind is None or not path.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=kind, headers={"Cache-Control": IMMUTABLE})


@router.get("/articles/{article_id}", response_class=HTMLResponse)
async def article_page(article_id: Annotated[str, PathParam(max_length=64)]) -> Response:
    """A deep link to a knowledge article: the app opens it."""
    return await console_page()
