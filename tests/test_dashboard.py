"""The class dashboard: loading results (corrupt files tolerated), the numbers it shows
(histogram, pass rates, hint counts, efficiency verdicts, problem submissions), links,
escaping, self-containment and template overrides."""

from __future__ import annotations

import json
import logging
import re
import shutil
from itertools import pairwise
from pathlib import Path

import pytest

from proctor.dashboard import build_dashboard, dashboard_context, load_results
from proctor.feedback import write_feedback
from proctor.feedback.selfcontained import Element, external_references, parse_html

DATA = Path(__file__).parent / "data" / "results"
SDPA_HINT = "Your output matches softmax(QK^T) V without the 1/sqrt(d_k) scaling."
MASK_HINT = "The masked positions look like they are set to 0 instead of -inf"


def section(root: Element, sid: str) -> Element:
    found = root.find("section", lambda e: e.attrs.get("id") == sid)
    assert found is not None, sid
    return found


@pytest.fixture()
def graded(tmp_path: Path) -> Path:
    """A copy of the sample results with each readable one's feedback.html written next to
    it, as `proctor batch` would leave them."""
    root = tmp_path / "graded"
    shutil.copytree(DATA, root, ignore=shutil.ignore_patterns("*.py"))
    for r in load_results(root):
        if "_error" not in r:
            write_feedback(r, Path(r["_source"]).parent)
    return root


@pytest.fixture()
def page(graded: Path) -> tuple[Path, str, Element]:
    out = build_dashboard(load_results(graded), graded / "dashboard.html")
    html = out.read_text(encoding="utf-8")
    return out, html, parse_html(html)


# --- loading --------------------------------------------------------------------------

def test_load_results_skips_corrupt_files_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        results = load_results(DATA)
    assert len(results) == 6
    corrupt = [r for r in results if "_error" in r]
    assert [Path(r["_source"]).parent.name for r in corrupt] == ["corrupt"]
    assert "JSONDecodeError" in corrupt[0]["_error"]
    assert "corrupt" in caplog.text
    good = [r for r in results if "_error" not in r]
    assert sorted(r["submission"] for r in good) == [
        "alice.ipynb", "bob.ipynb", "carol.ipynb", "dave.py", "erin.ipynb"]


def test_non_object_json_counts_as_corrupt(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "result.json").write_text("[1, 2, 3]")
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "b" / "deep" / "result.json").write_bytes(b"\xff\xfe not utf-8")
    results = load_results(tmp_path)
    assert len(results) == 2 and all("_error" in r for r in results)
    out = build_dashboard(results, tmp_path / "d.html")
    rows = parse_html(out.read_text()).find_all("tr", lambda e: "warning-row" in e.classes())
    assert len(rows) == 2


def test_corrupt_file_shown_as_warning_row(page) -> None:
    _, _, root = page
    rows = section(root, "unreadable").find_all("tr", lambda e: "warning-row" in e.classes())
    assert len(rows) == 1
    assert "corrupt" in rows[0].text() and "skipped" in rows[0].text()


# --- numbers --------------------------------------------------------------------------

def test_histogram_counts(page) -> None:
    # scores: alice 33.75, bob 30, carol 100, dave 57.5, erin 82.5 (all out of 100)
    expected = [0, 0, 0, 2, 0, 1, 0, 0, 1, 1]
    _, _, root = page
    bars = section(root, "scores").find_all("rect", lambda e: "hist-bar" in e.classes())
    assert [int(b.attrs["data-count"]) for b in bars] == expected
    table = section(root, "scores").find("table")
    assert [int(td.text()) for td in table.find_all("td")] == expected
    heights = [float(b.attrs["height"]) for b in bars]
    assert heights[3] == pytest.approx(2 * heights[5])  # bars are proportional


def test_histogram_edges_and_clamping() -> None:
    results = [{"score": s, "max_score": 10, "tests": []} for s in (0, 0.99, 1, 9.99, 10, 12, -3)]
    bins = dashboard_context(results, Path("."))["bins"]
    assert [b.count for b in bins] == [3, 1, 0, 0, 0, 0, 0, 0, 0, 3]


def test_pass_rates_per_task_and_test(page) -> None:
    _, _, root = page
    tasks = {tr.attrs["data-task"]: tr.text() for tr in
             section(root, "tasks").find_all("tr", lambda e: "data-task" in e.attrs)}
    assert "60% (3 of 5)" in tasks["causal_mask"]
    assert "40% (2 of 5)" in tasks["kv_cache"]
    tests = {tr.attrs["data-test-id"]: tr for tr in
             section(root, "tests").find_all("tr", lambda e: "data-test-id" in e.attrs)}
    assert len(tests) == 10
    mask = tests["test_mask.py::test_mask_shape"]
    assert (mask.attrs["data-passed"], mask.attrs["data-n"]) == ("3", "5")
    assert "2 failed" in mask.text()
    append = tests["test_cache.py::test_append"]
    assert "2 timed out" in append.text() and "1 error" in append.text()


def test_hint_counts(page) -> None:
    _, _, root = page
    rows = section(root, "hints").find("tbody").find_all("tr")
    got = {r.find("td", lambda e: "hint-text" in e.classes()).text():
           (int(r.attrs["data-students"]), int(r.attrs["data-count"])) for r in rows}
    sdpa = next(v for k, v in got.items() if k.startswith(SDPA_HINT))
    mask = next(v for k, v in got.items() if k.startswith(MASK_HINT))
    missing = next(v for k, v in got.items() if k.startswith("A name the tests need"))
    assert sdpa == (3, 3)       # alice, dave, erin
    assert mask == (2, 2)       # bob, erin
    assert missing == (1, 6)    # bob, six tests
    # most widespread misconception first
    first = rows[0].find("td", lambda e: "hint-text" in e.classes()).text()
    assert first.startswith(SDPA_HINT)


def test_hints_of_passing_tests_are_not_counted() -> None:
    tests = [{"id": "a", "status": "passed", "hint": "ok hint"},
             {"id": "b", "status": "failed", "hint": "real hint"},
             {"id": "c", "status": "timeout", "hint": "real hint"}]
    hints = dashboard_context([{"submission": "s", "tests": tests}], Path("."))["hints"]
    assert [(h["hint"], h["students"], h["count"]) for h in hints] == [("real hint", 1, 2)]


def test_efficiency_verdict_distribution(page) -> None:
    _, _, root = page
    rows = section(root, "efficiency").find_all("tr", lambda e: "data-verdict" in e.attrs)
    got = {(r.attrs["data-test-id"], r.attrs["data-verdict"]): int(r.attrs["data-count"])
           for r in rows}
    assert got == {
        ("test_efficiency.py::test_cache_memory_linear", "linear"): 3,
        ("test_efficiency.py::test_cache_memory_linear", "quadratic"): 1,
        ("test_efficiency.py::test_decode_step_time", "linear"): 3,
        ("test_efficiency.py::test_decode_step_time", "quadratic"): 1,
    }


def test_problem_submissions_link_to_their_feedback(page) -> None:
    out, _, root = page
    rows = section(root, "problems").find("tbody").find_all("tr")
    assert [r.attrs["data-submission"] for r in rows] == ["alice.ipynb", "bob.ipynb", "dave.py"]
    counts = {r.attrs["data-submission"]: [td.text() for td in r.find_all("td")][:3] for r in rows}
    assert counts == {"alice.ipynb": ["1", "1", "0"], "bob.ipynb": ["6", "0", "2"],
                      "dave.py": ["0", "2", "0"]}
    for r in rows:
        href = r.find("a").attrs["href"]
        assert not href.startswith("/") and "://" not in href  # relative
        assert (out.parent / href).resolve().is_file()
        assert (out.parent / href).name == "feedback.html"


def test_explicit_feedback_links(graded: Path, tmp_path: Path) -> None:
    links = {"alice.ipynb": "pages/alice.html", "bob.ipynb": "https://lms.example/bob",
             "dave.py": str(tmp_path / "elsewhere" / "dave.html")}
    out = build_dashboard(load_results(graded), tmp_path / "dash" / "index.html",
                          feedback_links=links)
    rows = {r.attrs["data-submission"]: r.find("a") for r in
            section(parse_html(out.read_text()), "problems").find("tbody").find_all("tr")}
    assert rows["alice.ipynb"].attrs["href"] == "pages/alice.html"
    assert rows["bob.ipynb"] is None                      # remote links are dropped
    assert rows["dave.py"].attrs["href"] == "../elsewhere/dave.html"


# --- page standards -------------------------------------------------------------------

def test_self_contained(page) -> None:
    _, html, root = page
    assert external_references(html) == []
    assert not re.search(r"https?://", html)
    assert root.find("script") is None and root.find("link") is None


def test_escaping(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    r = {"submission": evil, "assignment": evil, "score": 1, "max_score": 2,
         "tasks": {evil: {"score": 1, "max_score": 2}},
         "tests": [{"id": evil, "name": evil, "task": evil, "status": "error", "hint": evil,
                    "efficiency": {"verdict": evil}}]}
    out = build_dashboard([r], tmp_path / "d.html", title=evil)
    html = out.read_text()
    assert parse_html(html).find("script") is None
    assert "&lt;script&gt;" in html


def test_structure_and_shared_base(page) -> None:
    _, html, root = page
    assert root.find("html").attrs["lang"] == "en"
    levels = [int(e.tag[1]) for e in root.iter() if re.fullmatch(r"h[1-6]", e.tag)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in pairwise(levels))
    for th in root.find_all("th"):
        assert th.attrs.get("scope") in {"col", "row", "rowgroup"}
    svg = section(root, "scores").find("svg")
    assert svg.attrs["role"] == "img" and svg.find("title") and svg.find("desc")
    # the same stylesheet as the feedback page (one base template, no copy)
    assert "--passed-fg" in html and "@media print" in html


def test_empty_class(tmp_path: Path) -> None:
    out = build_dashboard([], tmp_path / "d.html")
    root = parse_html(out.read_text())
    assert "0 graded submissions" in root.find("header").text()


def test_template_override(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "dashboard.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block main %}<p id="n">{{ n }} in {{ title }}</p>'
        '{% endblock %}')
    out = build_dashboard(load_results(DATA), tmp_path / "d.html", title="CS 599",
                          template_dir=tmp_path / "tpl")
    assert parse_html(out.read_text()).find("p", lambda e: e.attrs.get("id") == "n").text() \
        == "5 in CS 599"


def test_results_are_not_modified(graded: Path, tmp_path: Path) -> None:
    results = load_results(graded)
    before = json.dumps(results, sort_keys=True)
    build_dashboard(results, tmp_path / "d.html")
    assert json.dumps(results, sort_keys=True) == before


def test_dashboard_leads_with_the_most_frequent_misconceptions(tmp_path: Path) -> None:
    """Each known misconception once, by how many students made it, linking to one
    student's feedback at that mistake (#fix-N)."""
    def result(name: str, *misconceptions: str) -> dict:
        tests = [{"id": f"t_{m}", "name": m, "task": "sdpa", "status": "failed", "score": 0,
                  "max_score": 1, "visibility": "hidden", "hint": f"advice about {m}",
                  "misconception": m} for m in misconceptions]
        return {"submission": name, "score": 0, "max_score": 2, "tests": tests}

    results = [result("ann", "scale_dk", "softmax_axis"), result("ben", "softmax_axis"),
               result("cid")]
    links = {"ann": "ann/feedback.html", "ben": "ben/feedback.html"}
    root = parse_html(build_dashboard(results, tmp_path / "dashboard.html",
                                      feedback_links=links).read_text())
    main = root.find("main")
    assert main.find("section").attrs["id"] == "misconceptions"
    rows = section(root, "misconceptions").find("tbody").find_all("tr")
    assert [(r.attrs["data-misconception"], r.attrs["data-students"]) for r in rows] == [
        ("softmax_axis", "2"), ("scale_dk", "1")]
    assert "advice about softmax_axis" in rows[0].text()
    assert rows[0].find("a").attrs["href"] == "ann/feedback.html#fix-2"
    assert rows[1].find("a").attrs["href"] == "ann/feedback.html#fix-1"


# --- the course overview ----------------------------------------------------------------

def _course_result(aid: str, sid: str, identity: str | None, score: float | None, max_score: float,
                   **extra) -> dict:
    row = {"assignment": aid, "submission": f"{aid}.py", "score": score or 0.0, "max_score": max_score,
           "tasks": {}, "tests": [], "student": {"id": sid, "key": sid, "name": sid.title(),
                                                  "identity": identity}, **extra}
    if score is None:
        row["error"] = "not valid JSON"
    return row


def test_course_overview_matches_students_across_assignments(tmp_path: Path) -> None:
    """One row per identity whatever each assignment calls the student (Moodle's
    participant ids differ per assignment); no identity: a row per assignment; scores link
    to each assignment's feedback; the dependent assignment's use of the students' own work
    is counted; everything escaped and self-contained."""
    from proctor.dashboard import build_course_dashboard, course_dashboard_context

    for folder, key in (("hw1", "4711"), ("hw2", "5120")):
        (tmp_path / folder / key).mkdir(parents=True)
        (tmp_path / folder / key / "feedback.html").write_text("<p>x</p>")
    (tmp_path / "hw1" / "dashboard.html").write_text("<p>x</p>")
    own = {"hw1": {"own": {"file": "hw1.py", "sha256": "ab"}, "problem": None,
                   "passed_only_with_correct": 2}}
    missing = {"hw1": {"own": None, "problem": "no hw1 submission", "passed_only_with_correct": 0}}
    evil = "<script>alert(1)</script>"
    assignments = [
        {"id": "hw1", "title": evil, "max_score": 10, "requires": (), "folder": tmp_path / "hw1",
         "results": [_course_result("hw1", "4711", "email:ada@x.edu", 5, 10),
                     _course_result("hw1", "4712", "email:alan@x.edu", None, 10)]},
        {"id": "hw2", "title": "Two", "max_score": 20, "requires": ("hw1",), "folder": tmp_path / "hw2",
         "results": [_course_result("hw2", "5120", "email:ada@x.edu", 20, 20, dependencies=own),
                     _course_result("hw2", "5121", "email:alan@x.edu", 10, 20, dependencies=missing),
                     _course_result("hw2", "anon_q", None, 20, 20, dependencies=missing)]}]
    context = course_dashboard_context(assignments, tmp_path)
    rows = {r["identity"] or r["name"]: r for r in context["students"]}
    assert set(rows) == {"email:ada@x.edu", "email:alan@x.edu", "Anon_Q"}
    ada = rows["email:ada@x.edu"]
    assert (ada["total"], ada["complete"]) == (25.0, True)
    assert ada["cells"]["hw1"]["href"] == "hw1/4711/feedback.html"
    assert ada["cells"]["hw2"]["href"] == "hw2/5120/feedback.html"
    assert rows["email:alan@x.edu"]["cells"]["hw1"]["score"] is None  # not gradable
    assert not rows["email:alan@x.edu"]["complete"] and rows["Anon_Q"]["cells"].keys() == {"hw2"}
    views = {a["id"]: a for a in context["assignments"]}
    assert views["hw1"]["href"] == "hw1/dashboard.html" and views["hw2"]["href"] is None
    assert (views["hw1"]["graded"], views["hw1"]["not_graded"]) == (1, 1)
    assert views["hw2"]["built_on"] == [{"id": "hw1", "own": 1, "correct": 2, "rescued": 2,
                                         "helped": 1}]
    assert context["total_max"] == 30 and context["complete"] == 1

    html = build_course_dashboard(assignments, tmp_path / "dashboard.html", title=evil).read_text()
    root = parse_html(html)
    assert root.find("script") is None and "&lt;script&gt;" in html
    assert external_references(html) == [] and not re.search(r"https?://", html)
    levels = [int(e.tag[1]) for e in root.iter() if re.fullmatch(r"h[1-6]", e.tag)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in pairwise(levels))
    assert all(th.attrs.get("scope") in {"col", "row"} for th in root.find_all("th"))
    assert 'data-requires="hw1" data-own="1" data-correct="2"' in html
    assert section(root, "totals").find("svg").attrs["role"] == "img"
