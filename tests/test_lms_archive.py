"""Safe extraction: every dangerous or broken member is refused on its own, with a reason,
and the rest of the archive is still read."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

from proctor.errors import SubmissionError
from proctor.lms import discover
from proctor.lms.archive import ArchiveLimits, read_input, read_zip


def notebook(code: str = "def f():\n    return 1\n") -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(code))
    return nbformat.writes(nb).encode()


def make_zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return path


def by_name(members):
    return {m.name: m for m in members}


def test_traversal_and_absolute_paths_are_refused_others_read(tmp_path):
    zpath = make_zip(tmp_path / "s.zip", [
        ("alice.py", b"x = 1\n"),
        ("../evil.py", b"x = 2\n"),
        ("/etc/evil.py", b"x = 3\n"),
        ("bob/..\\..\\evil.py", b"x = 4\n"),
    ])
    members = by_name(read_zip(zpath))
    assert members["alice.py"].source == b"x = 1\n" and members["alice.py"].error is None
    # zipfile itself strips a leading "/" on write in some versions; check whatever is there
    refused = [m for m in members.values() if m.name != "alice.py"]
    assert len(refused) == 3
    assert all(m.error and m.source is None for m in refused)
    assert not (tmp_path.parent / "evil.py").exists()


def test_symlink_member_is_refused(tmp_path):
    link = zipfile.ZipInfo("alice.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zpath = make_zip(tmp_path / "s.zip", [(link, b"/etc/passwd"), ("bob.py", b"y = 1\n")])
    members = by_name(read_zip(zpath))
    assert "symbolic link" in members["alice.py"].error
    assert members["bob.py"].error is None


def test_non_utf8_name_refused_but_utf8_without_flag_accepted(tmp_path):
    zpath = tmp_path / "s.zip"
    with zipfile.ZipFile(zpath, "w") as archive:
        archive.writestr("placeholder_a.py", b"a = 1\n")
        archive.writestr("placeholder_b.py", b"b = 1\n")
    raw = zpath.read_bytes()
    # Patch the raw names in place (same length): one latin-1 name, one UTF-8 name, no flag.
    latin1 = "caf\xe9_a_xxxxxx.py".encode("latin-1")
    utf8 = "jos\xe9_b_xxxxx.py".encode("utf-8")
    assert len(latin1) == len(b"placeholder_a.py") == len(utf8)
    raw = raw.replace(b"placeholder_a.py", latin1).replace(b"placeholder_b.py", utf8)
    zpath.write_bytes(raw)
    members = read_zip(zpath)
    errors = [m.error for m in members if m.error]
    ok = [m.name for m in members if m.error is None]
    assert len(errors) == 1 and "not UTF-8" in errors[0]
    assert ok == ["jos\xe9_b_xxxxx.py"]


def test_oversized_and_bomb_members_refused(tmp_path):
    zpath = make_zip(tmp_path / "s.zip", [
        ("big.py", b"#" * (3 * 1024 * 1024)),      # compresses ~1000x: a bomb by ratio
        ("ok.py", b"z = 1\n"),
    ])
    members = by_name(read_zip(zpath, ArchiveLimits(max_file_bytes=10 * 1024 * 1024)))
    assert "zip bomb" in members["big.py"].error
    members = by_name(read_zip(zpath, ArchiveLimits(max_file_bytes=1024 * 1024, max_ratio=1e9)))
    assert "limit per file" in members["big.py"].error
    assert members["ok.py"].error is None


def test_header_that_lies_about_size_is_caught_while_reading(tmp_path):
    zpath = make_zip(tmp_path / "s.zip", [("liar.py", b"a" * 5000)])
    raw = bytearray(zpath.read_bytes())
    # Rewrite the central directory's uncompressed size (offset 24 in the entry) to 10.
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    zpath.write_bytes(bytes(raw))
    members = read_zip(zpath, ArchiveLimits(max_file_bytes=100))
    assert members[0].source is None and members[0].error


def test_total_cap_refuses_later_members(tmp_path):
    zpath = make_zip(tmp_path / "s.zip", [(f"s{i}.py", b"%d\n" % i * 200) for i in range(5)])
    members = read_zip(zpath, ArchiveLimits(max_total_bytes=1000))
    assert [m.error is None for m in members].count(True) < 5
    assert any("total limit" in (m.error or "") for m in members)


def test_not_a_zip_is_one_clear_error(tmp_path):
    bad = tmp_path / "subs.zip"
    bad.write_bytes(b"this is not a zip")
    with pytest.raises(SubmissionError, match="expected a directory or a .zip"):
        read_input(bad)
    with pytest.raises(SubmissionError, match="no such file"):
        read_input(tmp_path / "missing")


def test_directory_symlinks_are_refused_not_followed(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("SECRET = 1\n")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.py").write_text("a = 1\n")
    (subs / "mallory.py").symlink_to(secret)
    (subs / "eve").symlink_to(tmp_path, target_is_directory=True)
    members = by_name(read_input(subs))
    assert members["alice.py"].error is None
    assert "symbolic link" in members["mallory.py"].error
    assert "symbolic link" in members["eve"].error


def test_corrupt_empty_and_binary_submissions_become_error_rows(tmp_path):
    zpath = make_zip(tmp_path / "s.zip", [
        ("good.ipynb", notebook()),
        ("truncated.ipynb", notebook()[:40]),
        ("empty.ipynb", nbformat.writes(nbformat.v4.new_notebook()).encode()),
        ("zero.py", b""),
        ("binary.py", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))),
        ("notnb.ipynb", json.dumps({"hello": 1}).encode()),
    ])
    entries = {e.student_id: e for e in discover(zpath)}
    assert entries["good"].error is None
    assert "not valid JSON" in entries["truncated"].error
    assert "no code" in entries["empty"].error
    assert "empty" in entries["zero"].error
    assert "binary" in entries["binary"].error
    assert "not a Jupyter notebook" in entries["notnb"].error
    assert len(entries) == 6  # every student has a row, the batch goes on


def test_junk_is_ignored(tmp_path):
    zpath = make_zip(tmp_path / "s.zip", [
        ("__MACOSX/._alice.py", b"\x00\x05\x16\x07"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("alice.py", b"a = 1\n"),
    ])
    assert [e.student_id for e in discover(zpath)] == ["alice"]
