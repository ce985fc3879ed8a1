"""Open the feedback page and the dashboard in headless Chromium and check what a person
would see: score, task bars, a failed test's hint, rendered SVG plots, no network request,
and no horizontal overflow on a 375px-wide phone. Screenshots go to tmp_path (printed).

Needs playwright (pip) and Debian's /usr/bin/chromium; skipped cleanly otherwise. Never
runs `playwright install`: the system browser is used.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from proctor.dashboard import build_dashboard, load_results
from proctor.feedback import write_feedback

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DATA = Path(__file__).parent / "data" / "results"
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """feedback.html for every sample result, plus the dashboard linking to them."""
    root = tmp_path_factory.mktemp("graded")
    shutil.copytree(DATA, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py"))
    results = load_results(root)
    out = {}
    for r in results:
        if "_error" not in r:
            out[Path(r["_source"]).parent.name] = write_feedback(r, Path(r["_source"]).parent)
    out["dashboard"] = build_dashboard(results, root / "dashboard.html")
    return out


class Opened:
    """A page opened at a viewport, with every request it made."""

    def __init__(self, browser, path: Path, viewport: dict[str, int]) -> None:
        self.page = browser.new_page(viewport=viewport)
        self.requests: list[str] = []
        self.page.on("request", lambda req: self.requests.append(req.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def shot(self, path: Path) -> Path:
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    def assert_offline(self) -> None:
        assert any(u.startswith("file://") for u in self.requests)  # the recorder works
        leaving = [u for u in self.requests if not u.startswith(("file://", "data:"))]
        assert leaving == [], leaving

    def horizontal_overflow(self) -> int:
        """How far the page, or any table inside its scroll box, is wider than the screen."""
        return self.page.evaluate("""() => Math.max(
            document.documentElement.scrollWidth - document.documentElement.clientWidth,
            ...[...document.querySelectorAll('.table-wrap')].map(
                e => e.scrollWidth - e.clientWidth))""")

    def open_all(self) -> None:
        """Open every folded section, as a reader who wants everything would."""
        self.page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")

    def close(self) -> None:
        self.page.close()


def test_feedback_page_desktop(browser, pages, tmp_path: Path) -> None:
    o = Opened(browser, pages["alice"], DESKTOP)
    try:
        p = o.page
        assert p.locator("#total-score").is_visible()
        assert p.locator("#total-score").inner_text().startswith("33.75")
        assert p.locator("#late-penalty").is_visible()
        bars = p.locator("table.tasks .bar")
        assert bars.count() == 6
        for i in range(bars.count()):
            box = bars.nth(i).bounding_box()
            assert box and box["width"] > 20 and box["height"] > 4
        failed = p.locator('article[data-test-id="test_sdpa.py::test_matches_reference"]')
        assert failed.locator(".badge").inner_text().strip().endswith("failed")
        fix = p.locator(failed.locator("a.fix-ref").get_attribute("href") + " .fix-hint")
        assert fix.is_visible() and "sqrt(d_k)" in fix.inner_text()
        o.open_all()  # the details and the passing tests are folded
        plots = p.locator("figure.efficiency svg")
        assert plots.count() == 3  # memory + time of the public check, the hidden check
        for i in range(plots.count()):
            box = plots.nth(i).bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100
        # the injected <script> in a message is text, not code
        assert "<script>" in p.locator('article[data-test-id="test_mha.py::test_heads_split"] .message').inner_text()
        o.shot(tmp_path / "feedback-desktop.png")
        o.assert_offline()
    finally:
        o.close()


def test_feedback_page_phone(browser, pages, tmp_path: Path) -> None:
    for name in ("alice", "bob"):
        o = Opened(browser, pages[name], PHONE)
        try:
            assert o.page.locator("#total-score").is_visible()
            o.open_all()
            assert o.horizontal_overflow() <= 0
            o.shot(tmp_path / f"feedback-{name}-phone.png")
            o.assert_offline()
        finally:
            o.close()
    o = Opened(browser, pages["carol"], PHONE)
    try:
        o.open_all()
        svg = o.page.locator("figure.efficiency svg").first
        svg.scroll_into_view_if_needed()
        box = svg.bounding_box()
        assert box and 0 < box["width"] <= PHONE["width"] and box["height"] > 0
    finally:
        o.close()


def test_feedback_prints(browser, pages, tmp_path: Path) -> None:
    o = Opened(browser, pages["alice"], DESKTOP)
    try:
        pdf = tmp_path / "feedback.pdf"
        o.page.emulate_media(media="print")
        o.page.pdf(path=str(pdf))
        assert pdf.stat().st_size > 1000
        print(f"print output: {pdf}")
        # what the print stylesheet does, as an image a person can look at
        assert o.page.locator(".skip").is_hidden()
        o.shot(tmp_path / "feedback-print.png")
    finally:
        o.close()


def test_dashboard(browser, pages, tmp_path: Path) -> None:
    for viewport, tag in ((DESKTOP, "desktop"), (PHONE, "phone")):
        o = Opened(browser, pages["dashboard"], viewport)
        try:
            p = o.page
            hist = p.locator("#scores svg")
            box = hist.bounding_box()
            assert box and box["width"] > 100 and box["height"] > 50
            assert p.locator("#scores rect.hist-bar").count() == 10
            assert p.locator("#hints tbody tr").first.is_visible()
            assert p.locator("#unreadable .warning-row").count() == 1
            links = p.locator("#problems a")
            assert links.count() == 3
            assert o.horizontal_overflow() <= 0, tag
            o.shot(tmp_path / f"dashboard-{tag}.png")
            # the links lead to the students' feedback pages, still offline
            if tag == "desktop":
                links.first.click()
                p.wait_for_load_state("load")
                assert p.url.endswith("/alice/feedback.html")
                assert p.locator("#total-score").is_visible()
            o.assert_offline()
        finally:
            o.close()


# --- the example submissions: what to fix, in the first screen -------------------------

ROOT = Path(__file__).resolve().parents[1]
BUGS = sorted((ROOT / "examples" / "submissions").glob("bug_*.py"))
FIRST_SCREEN = 900
MAX_HEIGHT = 4000


@pytest.fixture(scope="module")
def graded_examples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, Path]]:
    """Each one-bug example graded by the attention assignment, with its feedback page."""
    from proctor.config import load_course
    from proctor.runner import grade_submission
    from proctor.sandbox.client import Sandbox

    assignment = load_course(ROOT / "course.toml").assignments["attention"]
    out = {}
    box = Sandbox()
    try:
        for path in BUGS:
            result = grade_submission(assignment, path, sandbox=box).to_dict()
            folder = tmp_path_factory.mktemp(path.stem)
            out[path.stem] = (result, write_feedback(result, folder))
    finally:
        box.close()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.stem for p in BUGS])
def test_one_bug_page_shows_its_misconception_first(browser, graded_examples, name: str,
                                                     tmp_path: Path) -> None:
    """At 1100 px, the misconception's hint is in the first 900 px; the page is at most
    4,000 px tall, and every failure's title is visible without opening anything."""
    from proctor.feedback.fixes import what_to_fix

    result, page = graded_examples[name]
    top = what_to_fix(result)[0]
    o = Opened(browser, page, DESKTOP)
    try:
        p = o.page
        hint = p.locator("#fix-1 .fix-hint")
        assert hint.is_visible()
        assert " ".join(hint.inner_text().split()) == " ".join(top.hint.split())
        box = hint.bounding_box()
        assert box and box["y"] + box["height"] <= FIRST_SCREEN, (name, box)
        height = p.evaluate("document.documentElement.scrollHeight")
        print(f"{name}: page height {height} px")
        assert height <= MAX_HEIGHT, (name, height)
        failing = [t for t in result["tests"] if t["status"] != "passed"]
        assert failing
        for t in failing:
            title = p.locator(f'article[data-test-id="{t["id"]}"] h3')
            assert title.is_visible(), (name, t["id"])
            assert title.inner_text().strip() == t["name"]
        o.shot(tmp_path / f"{name}.png")
        o.assert_offline()
    finally:
        o.close()
