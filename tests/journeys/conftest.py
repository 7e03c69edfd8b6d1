from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.journeys.journey import of


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, object, None]:
    """A failing journey's report starts with who did what and what was expected."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    found = of(item)
    if found is not None and report.when == "call" and report.failed:
        report.sections.insert(0, ("journey", found.describe()))
