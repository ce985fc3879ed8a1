"""The student's feedback page: content, the hidden-test security rule, self-containment,
escaping, accessibility basics, and course template overrides.

Pages are parsed with the stdlib html.parser (proctor.feedback.selfcontained.parse_html),
never matched as raw strings where structure matters.
"""

from __future__ import annotations

import copy
import json
import re
from itertools import pairwise
from pathlib import Path

import pytest

from proctor.feedback import feedback_context, render_feedback, write_feedback
from proctor.feedback.selfcontained import Element, external_references, parse_html
from proctor.feedback.svg import efficiency_plot

DATA = Path(__file__).parent / "data" / "results"
SAMPLES = ["alice", "bob", "carol", "dave", "erin"]
STATUS_TEXT = {"passed": "passed", "failed": "failed", "error": "error", "timeout": "timed out"}


def load(name: str) -> dict:
    return json.loads((DATA / name / "result.json").read_text())


def articles(root: Element) -> dict[str, Element]:
    """Test id -> its <article>."""
    return {a.attrs["data-test-id"]: a for a in root.find_all("article")}


def by_class(root: Element, cls: str) -> list[Element]:
    return root.find_all(pred=lambda e: cls in e.classes())


@pytest.fixture(scope="module")
def alice() -> dict:
    return load("alice")


@pytest.fixture(scope="module")
def alice_page(alice: dict) -> tuple[str, Element]:
    html = render_feedback(alice)
    return html, parse_html(html)


# --- content --------------------------------------------------------------------------

def test_samples_cover_every_status() -> None:
    statuses = {t["status"] for n in SAMPLES for t in load(n)["tests"]}
    assert statuses >= set(STATUS_TEXT)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_test_appears_with_its_status(name: str) -> None:
    result = load(name)
    page = articles(parse_html(render_feedback(result)))
    assert set(page) == {t["id"] for t in result["tests"]}
    for t in result["tests"]:
        art = page[t["id"]]
        assert art.attrs["data-status"] == t["status"]
        badge = by_class(art, "badge")[0]
        # status is text, not color alone
        assert STATUS_TEXT[t["status"]] in badge.text()
        assert t["name"] in art.find("h3").text()


def test_tests_grouped_under_their_task(alice: dict, alice_page) -> None:
    _, root = alice_page
    for section in by_class(root, "task"):
        task_id = section.find("h2").text().removeprefix("Task ").strip()
        ids = {a.attrs["data-test-id"] for a in section.find_all("article")}
        assert ids == {t["id"] for t in alice["tests"] if t["task"] == task_id}


def test_summary_shows_total_late_penalty_and_task_bars(alice: dict, alice_page) -> None:
    _, root = alice_page
    total = root.find(pred=lambda e: e.attrs.get("id") == "total-score").text()
    assert total == "33.75 / 100"
    late = root.find(pred=lambda e: e.attrs.get("id") == "late-penalty").text()
    assert "10%" in late and "2 days late" in late and "37.5" in late
    rows = root.find_all("tr", lambda e: "task-row" in e.classes())
    assert [r.attrs["data-task"] for r in rows] == list(alice["tasks"])
    multi = next(r for r in rows if r.attrs["data-task"] == "multi_head")
    assert "12.5 / 25" in multi.text()
    fill = multi.find(pred=lambda e: "bar" in e.classes()).find("span")
    assert fill.attrs["style"] == "width: 50.0%"


def test_failed_public_test_shows_diagnostics_counterexample_and_hint(alice: dict, alice_page) -> None:
    _, root = alice_page
    art = articles(root)["test_sdpa.py::test_matches_reference"]
    table = art.find("table")
    rows = {tr.find("th").text(): tr.find("td").text() for tr in table.find_all("tr")}
    assert rows["max abs error"] == "0.4123"
    assert rows["max rel error"] == "2.83"
    assert rows["mismatched elements"] == "75%"
    assert rows["shape"] == "(2, 3, 4)"
    assert rows["worst element index"] == "(0, 1, 2)"
    assert rows["worst element: yours"] == "1.193"
    assert rows["worst element: expected"] == "0.7808"
    assert all(th.attrs.get("scope") == "row" for th in table.find_all("th"))
    cx = by_class(art, "counterexample")[0].text()
    assert cx == alice["tests"][2]["counterexample"]
    # the hint is in "What to fix", which the failure links to
    link = by_class(art, "fix-ref")[0].attrs["href"]
    fix = root.find(pred=lambda e: e.attrs.get("id") == link.removeprefix("#"))
    assert "1/sqrt(d_k)" in by_class(fix, "fix-hint")[0].text()


def test_no_late_penalty_box_without_penalty() -> None:
    root = parse_html(render_feedback(load("carol")))
    assert root.find(pred=lambda e: e.attrs.get("id") == "late-penalty") is None


def test_late_penalty_as_written_by_the_lms_step() -> None:
    """proctor.lms.late writes penalty_fraction, days_late, raw_score and a note."""
    late = {"submitted_at": None, "days_late": 1.0, "penalty_fraction": 0.25, "raw_score": 80.0,
            "note": "marked late by the LMS without a time; charged as 1 day(s) late"}
    root = parse_html(render_feedback({"score": 60.0, "max_score": 100.0, "late": late}))
    text = root.find(pred=lambda e: e.attrs.get("id") == "late-penalty").text()
    assert "25%" in text and "1 day late" in text and "80" in text and "charged as 1 day" in text
    on_time = {**late, "penalty_fraction": 0.0, "days_late": 0.0}
    root = parse_html(render_feedback({"score": 80.0, "max_score": 100.0, "late": on_time}))
    assert root.find(pred=lambda e: e.attrs.get("id") == "late-penalty") is None


def test_load_errors_listed_with_cell_numbers() -> None:
    root = parse_html(render_feedback(load("bob")))
    section = root.find("section", lambda e: e.attrs.get("id") == "load")
    assert section is not None
    rows = section.find("tbody").find_all("tr")
    assert [(r.find("th").text(), r.find("code").text()) for r in rows] == [
        ("cell [7], line 2", "NameError: name 'np' is not defined"),
        ("cell [12], line 4", "SyntaxError: invalid syntax"),
    ]
    assert "Traceback" in rows[0].text()
    assert "restarted 1 time " in section.text()
    # a note is not a problem: it is shown as a note, outside the problems section
    assert "nbgrader test cell" not in section.text()
    assert any("cell [15] is an nbgrader test cell" in n.text() for n in by_class(root, "load-note"))


def test_notes_alone_make_no_problems_section() -> None:
    """A correct notebook whose nbgrader test cells were not run has nothing to fix."""
    notes = [{"kind": "note", "where": "", "message": "cell [9] is an nbgrader test cell"}]
    root = parse_html(render_feedback({"load": {"problem": None, "errors": [], "notes": notes}}))
    assert root.find("section", lambda e: e.attrs.get("id") == "load") is None
    assert "cell [9] is an nbgrader test cell" in by_class(root, "load-note")[0].text()


def test_load_errors_in_the_documented_short_form() -> None:
    load_ = {"errors": [{"cell": 3, "error": "NameError: x"}], "skipped_lines": 2}
    section = parse_html(render_feedback({"load": load_})).find(
        "section", lambda e: e.attrs.get("id") == "load")
    assert section.find("tbody").find("th").text() == "cell 3"
    assert "NameError: x" in section.text()
    assert "2 lines" in " ".join(n.text() for n in by_class(parse_html(render_feedback({"load": load_})), "load-note"))


def test_unreadable_submission_problem_is_shown() -> None:
    root = parse_html(render_feedback({"load": {"problem": "alice.ipynb is empty", "errors": []}}))
    assert "alice.ipynb is empty" in root.find(pred=lambda e: e.attrs.get("id") == "load-problem").text()


def test_no_load_section_when_loading_went_fine() -> None:
    root = parse_html(render_feedback(load("carol")))
    assert root.find("section", lambda e: e.attrs.get("id") == "load") is None


def test_hint_repeated_in_message_is_shown_once(alice_page) -> None:
    _, root = alice_page
    art = articles(root)["test_efficiency.py::test_cache_memory_linear"]
    assert by_class(art, "message")[0].text() == "peak memory grows like n^2.03; allowed slope is 1.5"
    assert "Preallocate" in root.text() and "Hint:" not in by_class(art, "message")[0].text()


def test_footer_has_isolation_version_and_seed(alice_page) -> None:
    _, root = alice_page
    footer = root.find("footer")
    items = dict(zip((e.text() for e in footer.find_all("dt")),
                     (e.text() for e in footer.find_all("dd"))))
    assert items["Isolation"] == "bwrap"
    assert items["proctor"] == "0.1.0"
    assert items["Seed"] == "1234"


def test_empty_or_odd_results_still_render() -> None:
    html = render_feedback({})
    assert "<main" in html
    odd = {"tests": [{"id": "t", "status": "skipped", "visibility": "public", "score": None}]}
    root = parse_html(render_feedback(odd))
    assert "skipped" in by_class(root, "badge")[0].text()


# --- hidden tests: a security property ------------------------------------------------

def bait_test(visibility: str | None) -> dict:
    t = {
        "id": "test_x.py::test_secret", "name": "secret", "task": "t", "status": "failed",
        "score": 0, "max_score": 1, "message": "wrong output", "hint": "think about scaling",
        "details": {"checked": "SECRET_A", "worst_index": [424242], "worst_actual": 4242.4242,
                    "shape": [99991], "extra_input": "SECRET_B",
                    "series": {"metric": "time_s", "sizes": [777001, 777002], "values": [1, 2]}},
        "counterexample": "SECRET_C x=array([424242])",
        "efficiency": {"metric": "SECRET_D <b>", "sizes": [64, 128], "values": [1.0, 4.0],
                       "slope": 2.0, "allowed_slope": 1.5, "verdict": "SECRET_E"},
    }
    if visibility is not None:
        t["visibility"] = visibility
    return t


LEAKS = ["SECRET", "424242", "4242.4242", "99991", "777001", "777", "extra input"]


@pytest.mark.parametrize("visibility", ["hidden", None, "Public", "private"])
def test_hidden_tests_show_only_message_hint_and_measurements(visibility: str | None) -> None:
    """Anything that is not exactly "public" is hidden: fail closed. A hidden test keeps
    its message, hint and the numbers of its efficiency measurement, nothing else."""
    html = render_feedback({"tests": [bait_test(visibility)]})
    for leak in LEAKS:
        assert leak not in html
    art = articles(parse_html(html))["test_x.py::test_secret"]
    assert not by_class(art, "diagnostics") and not by_class(art, "counterexample")
    assert "wrong output" in art.text()
    assert "think about scaling" in by_class(parse_html(html), "fix-hint")[0].text()
    # the measurement: one plot, free-text metric and verdict replaced/dropped
    assert len(art.find_all("svg")) == 1
    assert "Cost against input size" in art.find("figcaption").text()
    assert "Verdict" not in art.find("figcaption").text()


def test_hidden_plots_can_be_turned_off() -> None:
    html = render_feedback({"tests": [bait_test("hidden")]}, hidden_plots=False)
    art = articles(parse_html(html))["test_x.py::test_secret"]
    assert art.find("figure") is None and art.find("table") is None and art.find("pre") is None
    assert "128" not in art.text()


def test_public_bait_is_shown(tmp_path: Path) -> None:
    """The same test made public does show its details (so the hidden test above is
    meaningful, not passing because nothing is ever shown)."""
    html = render_feedback({"tests": [bait_test("public")]})
    assert "SECRET_A" in html and "SECRET_B" in html and "SECRET_C" in html
    assert html.count("<svg") == 2  # the efficiency plus the series recorded in details


def test_sample_hidden_test_does_not_leak(alice_page) -> None:
    html, root = alice_page
    assert "SECRET" not in html and "7781" not in html
    hidden = articles(root)["test_sdpa.py::test_cross_shapes"]
    assert "output has the wrong shape" in hidden.text()
    assert "Hidden test" in hidden.text()


def test_override_template_cannot_see_hidden_data(tmp_path: Path) -> None:
    """Templates get the filtered context, so even a template that dumps everything
    cannot leak a hidden test's inputs."""
    (tmp_path / "feedback.html.j2").write_text(
        "{% for t in tasks %}{{ t }}{% endfor %}{{ self._TemplateReference__context }}"
    )
    html = render_feedback({"tests": [bait_test("hidden")]}, template_dir=tmp_path)
    assert "wrong output" in html
    assert "SECRET" not in html and "424242" not in html
    context = feedback_context({"tests": [bait_test("hidden")]})
    assert "SECRET" not in json.dumps(context, default=str)


def test_an_edited_course_template_shows_in_the_next_page(tmp_path: Path) -> None:
    """Environments are kept between pages (compiling templates is most of a page's cost),
    but an override edited in between is recompiled."""
    import os

    template = tmp_path / "feedback.html.j2"
    template.write_text("first {{ tasks | length }}")
    assert render_feedback({"tests": []}, template_dir=tmp_path).startswith("first")
    template.write_text("second {{ tasks | length }}")
    stat = template.stat()
    os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert render_feedback({"tests": []}, template_dir=tmp_path).startswith("second")


# --- efficiency plots -----------------------------------------------------------------

def test_efficiency_plot_is_a_labelled_figure(alice: dict, alice_page) -> None:
    _, root = alice_page
    art = articles(root)["test_efficiency.py::test_cache_memory_linear"]
    fig = art.find("figure")
    assert fig is not None and fig.find("figcaption") is not None
    assert "Fitted slope 2.03" in fig.find("figcaption").text()
    # the time series the suite recorded in details is drawn as a second plot
    captions = [f.find("figcaption").text() for f in art.find_all("figure")]
    assert len(captions) == 2 and captions[1].startswith("Time against input size")
    rows = [th.text() for th in art.find("table").find_all("th")]
    assert "problem" not in rows  # repeats the message
    assert "limit at largest" in rows
    svg = fig.find("svg")
    assert svg.attrs["role"] == "img"
    ids = svg.attrs["aria-labelledby"].split()
    assert [e.tag for e in (svg.find(pred=lambda e, i=i: e.attrs.get("id") == i) for i in ids)] == [
        "title", "desc"]
    axis_labels = [t.text() for t in svg.find_all("text", lambda e: "axis-label" in e.classes())]
    assert any("input size" in a for a in axis_labels)
    assert any("peak memory" in a for a in axis_labels)
    legend = svg.find("g", lambda e: "legend" in e.classes()).text()
    assert "slope 2.03" in legend and "linear guide" in legend and "quadratic guide" in legend


def test_passing_efficiency_test_is_plotted_too() -> None:
    root = parse_html(render_feedback(load("carol")))
    art = articles(root)["test_efficiency.py::test_cache_memory_linear"]
    assert art.attrs["data-status"] == "passed"
    assert art.find("svg") is not None
    assert "within the limit" in art.find("figcaption").text()


def test_svg_ids_are_unique_in_the_page(alice_page) -> None:
    _, root = alice_page
    ids = [e.attrs["id"] for e in root.iter() if "id" in e.attrs]
    assert len(ids) == len(set(ids))


def test_guides_go_through_the_first_point() -> None:
    eff = {"metric": "peak_bytes", "sizes": [100, 200, 400], "values": [10.0, 30.0, 90.0],
           "slope": 1.58}
    root = parse_html(str(efficiency_plot(eff)))
    lines = [p.attrs["points"].split() for p in root.find_all("polyline")]
    assert len(lines) == 3  # quadratic guide, linear guide, measured
    assert len({pts[0] for pts in lines}) == 1
    # on log-log axes the quadratic guide rises twice as steeply as the linear one
    def rise(pts: list[str]) -> float:
        return float(pts[0].split(",")[1]) - float(pts[-1].split(",")[1])
    quad, lin, _ = lines
    assert rise(quad) == pytest.approx(2 * rise(lin), rel=0.02)


def test_too_few_points_gives_no_plot() -> None:
    assert efficiency_plot({"sizes": [10], "values": [1.0]}) is None
    assert efficiency_plot({"sizes": [10, 20], "values": [0.0, -1.0]}) is None
    t = {"id": "e", "visibility": "public", "status": "passed",
         "efficiency": {"metric": "time_s", "sizes": [10], "values": [1.0], "slope": None}}
    assert "Not enough measurements" in render_feedback({"tests": [t]})


# --- escaping and self-containment ----------------------------------------------------

def test_autoescape_of_student_controlled_text(alice_page) -> None:
    html, root = alice_page
    assert root.find("script") is None
    assert "&lt;script&gt;alert(" in html
    art = articles(root)["test_mha.py::test_heads_split"]
    assert "<script>alert('xss')</script>" in art.text()  # shown as text


def test_escaping_everywhere() -> None:
    evil = '<img src=x onerror="alert(1)">'
    t = {"id": evil, "name": evil, "task": evil, "status": evil, "visibility": "public",
         "message": evil, "hint": evil, "details": {"checked": evil, evil: evil},
         "counterexample": evil,
         "efficiency": {"metric": evil, "sizes": [1, 2], "values": [1, 2], "verdict": evil}}
    html = render_feedback({"assignment": evil, "submission": evil, "tests": [t],
                            "load": {"errors": [{"cell": evil, "error": evil}]},
                            "isolation": evil})
    root = parse_html(html)
    assert root.find("img") is None
    assert not any("onerror" in e.attrs for e in root.iter())


@pytest.mark.parametrize("name", SAMPLES)
def test_pages_are_self_contained(name: str) -> None:
    html = render_feedback(load(name))
    assert external_references(html) == []
    assert not re.search(r"https?://", html)
    assert "@import" not in html and "url(" not in html
    root = parse_html(html)
    assert root.find("script") is None and root.find("link") is None
    assert root.find("style") is not None  # CSS is inline


# --- accessibility basics -------------------------------------------------------------

def headings(root: Element) -> list[int]:
    return [int(e.tag[1]) for e in root.iter() if re.fullmatch(r"h[1-6]", e.tag)]


@pytest.mark.parametrize("name", SAMPLES)
def test_document_structure(name: str) -> None:
    root = parse_html(render_feedback(load(name)))
    html = root.find("html")
    assert html.attrs.get("lang") == "en"
    viewport = root.find("meta", lambda e: e.attrs.get("name") == "viewport")
    assert "width=device-width" in viewport.attrs["content"]
    for tag in ("header", "main", "footer", "section"):
        assert root.find(tag) is not None
    levels = headings(root)
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in pairwise(levels))  # no skipped levels
    for table in root.find_all("table"):
        for th in table.find_all("th"):
            assert th.attrs.get("scope") in {"col", "row", "rowgroup"}
    for svg in root.find_all("svg"):
        assert svg.attrs.get("role") == "img"
        assert svg.find("title") is not None and svg.find("desc") is not None
    for fig in root.find_all("figure"):
        assert fig.find("figcaption") is not None


def _luminance(hex_color: str) -> float:
    rgb = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_text_colors_meet_wcag_aa() -> None:
    css = (Path(__import__("proctor.feedback").feedback.__file__).parent
           / "templates" / "style.css").read_text()
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [("fg", "bg"), ("muted", "bg"), ("accent", "bg"), ("muted", "panel"),
             ("fg", "panel"), ("accent", "hint-bg")]
    pairs += [(f"{k[:-3]}-fg", f"{k[:-3]}-bg") for k in var if k.endswith("-fg")]
    for fg, bg in pairs:
        assert contrast(var[fg], var[bg]) >= 4.5, (fg, bg)


def test_print_and_mobile_styles_present(alice_page) -> None:
    html, _ = alice_page
    assert "@media print" in html and "@media (max-width" in html


# --- template override and writing ----------------------------------------------------

def test_course_can_override_a_template(tmp_path: Path, alice: dict) -> None:
    (tmp_path / "feedback.html.j2").write_text(
        '{% extends "base.html.j2" %}'
        '{% block main %}<p id="course">Custom page for {{ assignment }}: {{ score | num }}</p>'
        '{% endblock %}'
    )
    root = parse_html(render_feedback(alice, template_dir=tmp_path))
    custom = root.find("p", lambda e: e.attrs.get("id") == "course")
    assert custom.text() == "Custom page for attention: 33.75"
    assert root.find("style") is not None  # base and CSS still come from the package


def test_course_can_override_only_the_css(tmp_path: Path, alice: dict) -> None:
    (tmp_path / "style.css").write_text("body { color: #000000; } /* course-css */")
    html = render_feedback(alice, template_dir=tmp_path)
    assert "course-css" in html
    assert articles(parse_html(html))  # the package's feedback template is still used


def test_write_feedback_is_atomic_and_matches_render(tmp_path: Path, alice: dict) -> None:
    out = write_feedback(alice, tmp_path / "alice")
    assert out == tmp_path / "alice" / "feedback.html"
    assert out.read_text(encoding="utf-8") == render_feedback(alice)
    assert [p.name for p in out.parent.iterdir()] == ["feedback.html"]  # no temp file left
    # overwrite in place
    changed = copy.deepcopy(alice)
    changed["score"] = 1.0
    write_feedback(changed, tmp_path / "alice")
    assert "1 <span" in out.read_text(encoding="utf-8")


# --- what to fix first -----------------------------------------------------------------

def _t(id_: str, task: str, lost: float, misconception: str | None, hint: str, *,
       visibility: str = "hidden", status: str = "failed", **extra) -> dict:
    return {"id": id_, "name": f"Title of {id_}", "task": task, "status": status, "score": 0.0,
            "max_score": lost, "visibility": visibility, "message": "m", "hint": hint,
            "misconception": misconception, **extra}


def fix_result() -> dict:
    example = {"query": {"shape": [1, 2], "dtype": "float64", "values": [[1.0, 0.5]]}, "n": 2}
    big = {"x": {"shape": [3, 3], "dtype": "float64", "values": [[0.0] * 3] * 3}}
    return {"score": 1.23456, "max_score": 19.202, "tests": [
        _t("a", "sdpa", 0.7353, "scale_dk", "You divide by d_k.", visibility="public", example=big),
        _t("b", "sdpa", 1.4706, "scale_dk", "You divide by d_k.", visibility="public", example=example),
        _t("c", "mask", 5.0, "upper", "Use np.tril."),
        _t("d", "mha", 0.0, "scale_dk", "You divide by d_k. This check uses your SDPA."),
        _t("e", "mha", 1.0, None, "Only row 0 is wrong."),
        _t("ok", "mha", 1.0, None, "", status="passed"),
    ]}


def test_what_to_fix_lists_each_misconception_once_by_points() -> None:
    from proctor.feedback.fixes import what_to_fix

    fixes = what_to_fix(fix_result())
    assert [f.ids for f in fixes] == [["upper"], ["scale_dk"], ["unexplained:mha"]]
    assert [round(f.points, 4) for f in fixes] == [5.0, 2.2059, 1.0]
    assert [t["id"] for t in fixes[1].tests] == ["a", "b", "d"]
    assert fixes[1].hint == "You divide by d_k."  # the advice most of its tests give
    assert fixes[1].example_test()["id"] == "b"  # the smallest recorded input


def test_page_opens_with_what_to_fix_and_says_each_hint_once() -> None:
    root = parse_html(render_feedback(fix_result()))
    main = root.find("main")
    sections = [e.attrs.get("id") for e in main.find_all("section")][:2]
    assert sections == ["summary", "fixes"]
    entries = by_class(root, "fix")
    assert [by_class(e, "fix-hint")[0].text() for e in entries] == [
        "Use np.tril.", "You divide by d_k.", "Only row 0 is wrong."]
    assert "2.2 points" in entries[1].text() and "sdpa, mha" in entries[1].text()
    # the smallest input, by name, as NumPy prints it
    ex = by_class(entries[1], "example")[0].text()
    assert "query" in ex and "(1, 2)" in ex and "[[1, 0.5]]" in ex and "n" in ex
    # the failure that adds a note says only the note
    art = articles(root)["d"]
    assert by_class(art, "hint")[0].text() == "Also: This check uses your SDPA."
    assert root.text().count("You divide by d_k.") == 1


def test_failures_first_and_passes_folded() -> None:
    root = parse_html(render_feedback(fix_result()))
    task = next(s for s in by_class(root, "task") if "mha" in s.find("h2").text())
    arts = task.find_all("article")
    assert [a.attrs["data-status"] for a in arts] == ["failed", "failed", "passed"]
    folded = task.find("details", lambda e: "passes" in e.classes())
    assert [a.attrs["data-test-id"] for a in folded.find_all("article")] == ["ok"]
    assert root.find("script") is None


def test_zero_point_failure_says_why() -> None:
    root = parse_html(render_feedback(fix_result()))
    note = by_class(articles(root)["d"], "zero-note")[0].text()
    assert note.startswith("Feedback only (0 points): the points for this are in")
    assert "mha" in note


def test_scores_rounded_on_the_page_only() -> None:
    result = fix_result()
    root = parse_html(render_feedback(result))
    assert root.find(pred=lambda e: e.attrs.get("id") == "total-score").text() == "1.23 / 19.2"
    assert "0.7 points" in articles(root)["a"].text() and "0.7353" not in root.text()
    assert result["max_score"] == 19.202


def test_local_check_names_the_official_points_of_a_task_without_public_checks() -> None:
    result = {**fix_result(), "tasks": {"sdpa": {"score": 0.0, "max_score": 2.2},
                                         "efficiency": {"score": 0.0, "max_score": 0.0}},
              "official_points": {"sdpa": 25.0, "efficiency": 10.0}}
    root = parse_html(render_feedback(result))
    line = by_class(root, "official-only")[0].text()
    assert line == "efficiency, 10 points, is checked in the official grade."
    rows = [r.attrs["data-task"] for r in root.find_all("tr", lambda e: "task-row" in e.classes())]
    assert "efficiency" not in rows
    from proctor.feedback.summary import summary_text

    assert "efficiency, 10 points, is checked in the official grade" in summary_text(result)


def test_terminal_summary_follows_the_page_order() -> None:
    from proctor.feedback.summary import summary_text

    text = summary_text(fix_result())
    first = text.index("What to fix first:")
    order = [text.index(h, first) for h in ("Use np.tril.", "You divide by d_k.", "Only row 0 is wrong.")]
    assert order == sorted(order) and text.count("You divide by d_k.") == 1
    assert "[FAIL] sdpa: Title of b  (fix 2)" in text


def test_notebook_cells_are_named_as_jupyter_shows_them() -> None:
    """Execution count when the notebook was run, else the cell's first line."""
    from proctor.submission import cell_label, read_submission

    sub = read_submission(Path(__file__).resolve().parents[1] / "examples" / "submissions" / "correct.ipynb")
    assert all(re.fullmatch(r"cell \[\d+\]", c.label) or c.label.startswith("the cell starting “")
               for c in sub.cells)
    assert sum(c.label.startswith("cell [") for c in sub.cells) > len(sub.cells) / 2
    assert any(re.match(r"cell \[\d+\], cell \[\d+\].* are nbgrader test cells", n) for n in sub.notes)
    assert cell_label(4, None, "\n  import numpy as np\n") == "the cell starting “import numpy as np”"


def test_a_long_printed_value_in_an_example_folds() -> None:
    from proctor.feedback.render import example_view

    rows = {r["name"]: r for r in example_view({"config": [11, 8, 2], "blocks": ["{'w_q': array(" + "0.5, " * 80 + ")}"]})}
    assert rows["config"]["long"] is False and rows["blocks"]["long"] is True
