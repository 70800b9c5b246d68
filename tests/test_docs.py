"""The project's own documents hold what the code says they hold.

- Every citation of a document in the code (`app/`, `sandbox/`, `bench/` and the deployment
  files) names a file of `docs/` that exists, and the section it names exists in it: a number
  (`docs/external-apis.md §4.1`, a heading starting with `4.1`), a quoted title
  (`docs/make-operations.md, "Dry runs"`, a heading containing it) or an anchor
  (`docs/notifications.md#teams`, a heading whose GitHub slug it is). A bare `§1.8` belongs to
  the document named just before it in the same file; one with no document close before it,
  and no outside standard (ISO, RFC...) either, is an error: the reader cannot follow it.
- Every relative link of the Markdown files (README.md, docs/, the READMEs in the code) points
  to a file of the repository, and a link to a Markdown heading (`file.md#anchor`, `#anchor`)
  to a heading that exists.

Pure file reading: no database, no server.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("app", "sandbox", "bench", "deploy")
CODE_FILES = ("wsgi.py", "gunicorn.conf.py", "compose.yaml", "Dockerfile", "Makefile", ".env.example")
CODE_SUFFIXES = {
    ".py",
    ".html",
    ".js",
    ".md",
    ".txt",
    ".yaml",
    ".yml",
    ".conf",
    ".service",
    ".cfg",
    ".toml",
    ".ini",
    ".example",
    "",
}

DOC = r"(?<![\w/.-])(?P<doc>(?:docs/)?[a-z][a-z0-9-]*\.md)"
# A section sign and the section's number: §4.1, §1.5b, §2
SECTION = r"§(?P<sec>\d+(?:\.\d+)*[a-z]?)"
NUMBERED = re.compile(DOC + r"`{0,2},?\s*(?:section\s*)?" + SECTION)
TITLED = re.compile(DOC + r"`{0,2}(?:,\s*|\s+)\(?\"(?P<title>[^\"\n]{1,60}(?:\n[^\"\n]{1,60})?)\"")
ANCHORED = re.compile(r"(?<![\w/.-])(?P<doc>docs/[a-z][a-z0-9-]*\.md)#(?P<anchor>[a-z0-9-]+)")
PLAIN = re.compile(r"(?<![\w/.-])(?P<doc>docs/[a-z][a-z0-9-]*\.md)")
BARE = re.compile(r"(?<!§)" + SECTION)
# Standards cited with § in the code that are not ours
OUTSIDE = re.compile(r"ISO|IEC|GIF89a|CIPA|RFC|ECMA|ITU|spec\b")
BARE_REACH = 400  # characters: a bare § must follow its document this closely


def _tracked() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    return [ROOT / name for name in out if name and (ROOT / name).is_file()]


def code_files() -> list[Path]:
    found = []
    for path in _tracked():
        rel = path.relative_to(ROOT)
        if rel.parts[0] in CODE_DIRS and path.suffix in CODE_SUFFIXES or str(rel) in CODE_FILES:
            if "translations" not in rel.parts and "static" not in rel.parts:
                found.append(path)
    return found


def markdown_files() -> list[Path]:
    return [p for p in _tracked() if p.suffix == ".md" and not p.relative_to(ROOT).parts[0].startswith(".")]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@cache
def headings(doc: Path) -> tuple[str, ...]:
    text = doc.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # no headings inside code blocks
    return tuple(m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M))


def doc_path(name: str) -> Path:
    return ROOT / "docs" / Path(name).name


def ours(name: str) -> bool:
    """`docs/x.md` always names one of ours; a bare `x.md` only when docs/ has it."""
    return name.startswith("docs/") or doc_path(name).is_file()


def has_number(doc: Path, sec: str) -> bool:
    pattern = re.compile(r"§?" + re.escape(sec) + r"(?![\w.]*\d)[.)]?(\s|$)")
    return any(pattern.match(h) for h in headings(doc))


def has_title(doc: Path, title: str) -> bool:
    wanted = " ".join(title.lower().split())
    return any(wanted in " ".join(h.replace("`", "").lower().split()) for h in headings(doc))


def has_anchor(doc: Path, anchor: str) -> bool:
    return anchor in {slug(h) for h in headings(doc)}


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def citation_problems(path: Path, text: str) -> list[str]:
    rel = path.relative_to(ROOT)
    problems: list[str] = []

    def check(doc_name: str, pos: int, what: str, ok) -> None:
        doc = doc_path(doc_name)
        where = f"{rel}:{_line(text, pos)}"
        if not doc.is_file():
            problems.append(f"{where}: {doc_name} does not exist in docs/")
        elif not ok(doc):
            problems.append(f"{where}: {doc_name} has no section {what}")

    numbered_at = set()
    for m in NUMBERED.finditer(text):
        numbered_at.add(m.start("sec") - 1)
        check(m["doc"], m.start(), "§" + m["sec"], lambda d, s=m["sec"]: has_number(d, s))
    for m in TITLED.finditer(text):
        if not ours(m["doc"]):
            continue  # another project's file (make-skills' iml-functions.md...)
        title = re.sub(r"\s*\n\s*#?\s*", " ", m["title"]).strip()
        check(m["doc"], m.start(), f'"{title}"', lambda d, t=title: has_title(d, t))
    for m in ANCHORED.finditer(text):
        check(m["doc"], m.start(), "#" + m["anchor"], lambda d, a=m["anchor"]: has_anchor(d, a))
    for m in PLAIN.finditer(text):
        if not doc_path(m["doc"]).is_file():
            problems.append(f"{rel}:{_line(text, m.start())}: {m['doc']} does not exist")
    # A bare § belongs to the closest document named before it, unless a standard is closer.
    doc_names = [(m.end(), m["doc"]) for m in re.finditer(DOC, text) if ours(m["doc"])]
    outside = [m.end() for m in OUTSIDE.finditer(text)]
    for m in BARE.finditer(text):
        if m.start() in numbered_at:
            continue
        before = [(end, name) for end, name in doc_names if end <= m.start()]
        standard = max((end for end in outside if end <= m.start()), default=-1)
        if before and before[-1][0] > standard and m.start() - before[-1][0] <= BARE_REACH:
            name = before[-1][1]
            check(name, m.start(), "§" + m["sec"], lambda d, s=m["sec"]: has_number(d, s))
        elif standard < 0 or m.start() - standard > BARE_REACH:
            problems.append(
                f"{rel}:{_line(text, m.start())}: §{m['sec']} names no document (write docs/<file>.md §{m['sec']})"
            )
    return problems


def test_every_citation_in_the_code_resolves():
    files = code_files()
    assert len(files) > 100, "the code was not found"
    problems = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems += citation_problems(path, text)
    assert not problems, "\n".join(problems)


LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\((?P<image>[^)\s]+)\)")


def link_problems(path: Path, root: Path = ROOT) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    rel = path.relative_to(root)
    problems = []
    for m in LINK.finditer(text):
        target = m["target"] or m["image"]
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        where = f"{rel}:{_line(text, m.start())}"
        if not dest.exists() or root not in (dest, *dest.parents):
            problems.append(f"{where}: {target} is not a file of the repository")
        elif anchor and dest.suffix == ".md" and not has_anchor(dest, anchor):
            problems.append(f"{where}: {dest.relative_to(root)} has no heading #{anchor}")
    return problems


def test_every_relative_link_of_the_documents_resolves():
    files = markdown_files()
    assert ROOT / "README.md" in files and ROOT / "docs" / "architecture.md" in files
    problems = [p for path in files for p in link_problems(path)]
    assert not problems, "\n".join(problems)


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The rules above, on made-up text: each mistake is reported, each right citation is not."""
    fake = ROOT / "app" / "example.py"
    good = (
        '"""See docs/external-apis.md §4.1 and §4.3, docs/external-apis.md, "Make status\n'
        'callbacks", docs/notifications.md#teams and PNG (ISO/IEC 15948 §5)."""'
    )
    assert citation_problems(fake, good) == []
    for bad in (
        "docs/external-apis.md §9.9",
        "docs/missing.md §1",
        "see §1.5b",
        'docs/external-apis.md, "No such title"',
        "docs/notifications.md#nowhere",
        "docs/nothing-here.md",
        "docs/external-apis.md §1.1" + " " * 500 + "then §4.1",
    ):
        assert citation_problems(fake, bad), bad
    page = tmp_path / "page.md"
    page.write_text(
        "# A title\n[ok](#a-title) [bad](#nope) [gone](missing.md) [up](../x.md)\n"
        "[web](https://example.org/a.md) `[code](nowhere.md)`\n",
        encoding="utf-8",
    )
    problems = link_problems(page, root=tmp_path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "page.md has no heading #nope",
        "missing.md is not a file of the repository",
        "../x.md is not a file of the repository",
    ]
