"""The chaos suite's private PostgreSQL cluster (one per session, on a free port) and its
report of figures at the end of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos import report
from tests.chaos.cluster import Cluster, postgres_bin, private_cluster
from tests.support import IN_CI


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    if postgres_bin() is None:
        if IN_CI:
            pytest.fail("no PostgreSQL server binaries (pg_ctl) and CI=true: chaos must run")
        pytest.skip("no PostgreSQL server binaries (pg_ctl) for a private cluster")
    with private_cluster() as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if report.RUNS:
        terminalreporter.section("chaos runs (private PostgreSQL cluster)")
        for line in report.lines():
            terminalreporter.write_line(line)
