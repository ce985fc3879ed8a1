"""audit.html in headless Chromium: the verdict, the per-task table and the failing checks
are visible, nothing is fetched, and a phone-width screen needs no sideways scrolling
outside the tables' own scroll boxes. Screenshots go to tmp_path (printed).

The report is ``tests/data/audit/audit.json``: a trimmed copy of a real ``proctor audit
attention`` run (before the suite fixes of issue 12, so several checks fail).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proctor.audit.report import write_outputs

from test_browser import DESKTOP, PHONE, Opened, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

REPORT = Path(__file__).parent / "data" / "audit" / "audit.json"


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    report = json.loads(REPORT.read_text())
    return write_outputs(report, tmp_path_factory.mktemp("audit"))[1]


def test_audit_page_shows_the_verdict_and_the_task_table(browser, page_path: Path, tmp_path: Path) -> None:  # noqa: F811
    opened = Opened(browser, page_path, DESKTOP)
    opened.shot(tmp_path / "audit-desktop.png")
    opened.assert_offline()
    page = opened.page
    assert "below the thresholds" in page.inner_text("header")
    rows = page.locator("table.audit-tasks tbody tr")
    assert rows.count() == 6
    assert rows.nth(0).locator("th").inner_text() == "causal_mask"
    failing = page.locator("table.checks tr.check-fail th").all_inner_texts()
    assert "degenerate points" in failing and "collateral" in failing
    assert page.locator("table.mutants tbody tr").count() > 30
    assert page.get_by_text("scale_embed = scale_head_dim").is_visible()


def test_audit_page_fits_a_phone(browser, page_path: Path, tmp_path: Path) -> None:  # noqa: F811
    opened = Opened(browser, page_path, PHONE)
    opened.shot(tmp_path / "audit-phone.png")
    width = opened.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert width <= 0
