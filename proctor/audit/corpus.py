"""Corpora of whole submissions built as patches of one base file: mutants and alternatives.

A corpus is a course file (trusted content, imported on the trusted side only) defining
``BASE``, the base submission's path relative to the corpus file, and either

* ``MUTANTS``: name -> (tasks, hint words, what the bug is, [(old, new), ...]), where
  ``tasks`` is the own task then, comma-separated, tasks it may also lose because the bug
  sits in a shared helper; or
* ``ALTERNATIVES``: name -> (the freedom it exercises, [(old, new), ...]): correct code; or
* ``EXAMPLES``: name -> (what it is, [(old, new), ...]): submissions committed for people to
  read (demos, feedback examples), each headed by ``HEADER`` (a format string of ``name``
  and ``what``; default a comment line);

and optionally ``BUILT``: file name -> zero-argument function returning the text, for an
entry no patch of the base can express (a filled-in notebook), and ``OUTPUT``, the folder
(relative to the corpus file) where the entries are committed: ``python -m
proctor.audit CORPUS [--check]`` rewrites them there, or exits 1 naming the stale
ones, so committed corpora are generated and checked by this one mechanism.

Writing patches rather than whole files keeps each entry otherwise identical to the base,
so a mutant differs from a correct submission in exactly its bug.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proctor.errors import ProctorError


@dataclass(frozen=True)
class Entry:
    """One generated submission: its text and what the corpus says about it."""

    name: str
    text: str
    what: str
    task: str | None = None  # a mutant's own task
    shared: tuple[str, ...] = ()  # tasks it may also lose (a helper two parts share)
    hint: str | None = None  # words its hint must contain
    filename: str = ""  # as written out: ``<name>.py`` unless the corpus builds another kind

    def __post_init__(self) -> None:
        if not self.filename:
            object.__setattr__(self, "filename", f"{self.name}.py")


@dataclass(frozen=True)
class Corpus:
    path: Path
    base: Path
    entries: list[Entry] = field(default_factory=list)
    output: Path | None = None  # where the entries are committed, if they are


def _load_module(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_proctor_corpus_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise ProctorError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # course content: one clear line, not a traceback
        raise ProctorError(f"{path}: could not load the corpus: {type(exc).__name__}: {exc}") from None
    return module


def apply_patches(text: str, patches: list[tuple[str, str]], where: str) -> str:
    """``text`` with each ``old`` (which must occur exactly once) replaced by ``new``."""
    for old, new in patches:
        count = text.count(old)
        if count != 1:
            raise ProctorError(f"{where}: patch target found {count} times (expected once): {old[:80]!r}")
        text = text.replace(old, new)
    return text


def load_corpus(path: Path) -> Corpus:
    """Build every entry of the corpus file ``path``; a patch that does not apply is an error."""
    path = Path(path)
    if path.is_dir():
        path = path / "corpus.py"
    if not path.is_file():
        raise ProctorError(f"{path}: no such corpus file")
    module = _load_module(path)
    base = (path.parent / str(getattr(module, "BASE", ""))).resolve()
    if not base.is_file():
        raise ProctorError(f"{path}: BASE {getattr(module, 'BASE', None)!r} is not a file beside it")
    source = base.read_text()
    entries = []
    for name, spec in getattr(module, "MUTANTS", {}).items():
        tasks, hint, what, patches = spec
        own, *shared = [t.strip() for t in tasks.split(",") if t.strip()]
        text = apply_patches(source, patches, f"{path.name}: mutant {name}")
        header = f"# mutant {name}: {what} (task {own}; hint must say {hint!r})\n"
        entries.append(Entry(name, header + text, what, own, tuple(shared), hint))
    for name, (what, patches) in getattr(module, "ALTERNATIVES", {}).items():
        text = apply_patches(source, patches, f"{path.name}: alternative {name}")
        entries.append(Entry(name, f"# correct alternative {name}: {what}\n" + text, what))
    header = str(getattr(module, "HEADER", "# example {name}: {what}\n"))
    for name, (what, patches) in getattr(module, "EXAMPLES", {}).items():
        text = apply_patches(source, patches, f"{path.name}: example {name}")
        entries.append(Entry(name, header.format(name=name, what=what) + text, what))
    for filename, build in getattr(module, "BUILT", {}).items():
        try:
            text = build()
        except Exception as exc:  # course content: one clear line, not a traceback
            raise ProctorError(f"{path}: could not build {filename}: {type(exc).__name__}: {exc}") from None
        entries.append(Entry(Path(filename).stem, text, f"built by {build.__name__}", filename=filename))
    if not entries:
        raise ProctorError(f"{path}: defines none of MUTANTS, ALTERNATIVES, EXAMPLES or BUILT")
    output = getattr(module, "OUTPUT", None)
    return Corpus(path, base, entries, None if output is None else (path.parent / output).resolve())


def write_all(corpus: Corpus, directory: Path) -> dict[str, Path]:
    """Write every entry as ``directory/<filename>``; returns name -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for entry in corpus.entries:
        paths[entry.name] = directory / entry.filename
        paths[entry.name].write_text(entry.text, encoding="utf-8")
    return paths


def stale_entries(corpus: Corpus) -> list[str]:
    """File names of the committed entries (in the corpus's ``OUTPUT``) that differ from a
    fresh build, or are missing; sorted."""
    if corpus.output is None:
        raise ProctorError(f"{corpus.path}: no OUTPUT folder, so nothing of it is committed")
    return sorted(e.filename for e in corpus.entries
                  if not (corpus.output / e.filename).is_file()
                  or (corpus.output / e.filename).read_text(encoding="utf-8") != e.text)
