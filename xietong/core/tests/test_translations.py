"""The English catalogue is complete: every string the code and templates mark for translation has an
English text, none is fuzzy, and ``makemessages`` finds nothing the catalogue lacks."""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

XIETONG = Path(settings.BASE_DIR) / "xietong"
CATALOGUE = XIETONG / "locale" / "en" / "LC_MESSAGES" / "django.po"


@dataclass
class Entry:
    """One message of a .po file (enough of it to check completeness)."""

    msgid: str = ""
    msgstr: list[str] = field(default_factory=list)
    fuzzy: bool = False
    where: list[str] = field(default_factory=list)


def read_po(path: Path) -> list[Entry]:
    """The live entries of a .po file (obsolete ``#~`` ones skipped; the header excluded)."""
    entries: list[Entry] = []
    current = Entry()
    target: str | None = None

    def close() -> None:
        nonlocal current, target
        if current.msgid or current.msgstr:
            entries.append(current)
        current, target = Entry(), None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            current.fuzzy = current.fuzzy or "fuzzy" in line
        elif line.startswith("#:"):
            current.where.append(line[2:].strip())
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid_plural "):
            target = "plural"
        elif line.startswith("msgid "):
            current.msgid, target = ast.literal_eval(line[6:]), "msgid"
        elif line.startswith("msgstr"):
            current.msgstr.append(ast.literal_eval(line.split(" ", 1)[1]))
            target = "msgstr"
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if target == "msgid":
                current.msgid += text
            elif target == "msgstr":
                current.msgstr[-1] += text
    close()
    return [entry for entry in entries if entry.msgid]


def test_every_catalogue_entry_is_translated_and_none_is_fuzzy() -> None:
    entries = read_po(CATALOGUE)
    assert entries
    missing = [entry.msgid for entry in entries if not all(entry.msgstr)]
    fuzzy = [entry.msgid for entry in entries if entry.fuzzy]
    assert not missing, f"{len(missing)} untranslated entries, e.g. {missing[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries, e.g. {fuzzy[:10]}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_makemessages_finds_no_string_missing_from_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extract the strings afresh from a copy of the code and compare them with the catalogue."""
    copy = tmp_path / "xietong"
    shutil.copytree(XIETONG, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "*.mo"))
    monkeypatch.chdir(copy)
    monkeypatch.setattr(settings, "LOCALE_PATHS", [copy / "locale"])
    call_command("makemessages", locale=["en"], verbosity=0, no_obsolete=True)
    known = {entry.msgid for entry in read_po(CATALOGUE)}
    extracted = read_po(copy / "locale" / "en" / "LC_MESSAGES" / "django.po")
    new = [f"{e.msgid!r} ({', '.join(e.where)[:80]})" for e in extracted if e.msgid not in known]
    assert not new, f"{len(new)} strings are not in the English catalogue:\n" + "\n".join(new[:40])
