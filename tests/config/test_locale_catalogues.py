"""The translation catalogues under locale/: every entry translated (no empty or fuzzy
msgstr), every placeholder kept, and each committed .mo exactly its .po, so a run needs
no gettext tools (docs/i18n.md)."""

import ast
import gettext
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"
CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|<[^>]+>")


def entries(path: Path) -> list[dict]:
    """The .po file's entries: {"flags", "msgctxt", "msgid", "msgid_plural", "msgstr": [..]}."""
    found = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, key = {"flags": [], "msgstr": {}}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if isinstance(key, int):
                    entry["msgstr"][key] += value
                else:
                    entry[key] += value
            else:
                name, _space, quoted = line.partition(" ")
                value = ast.literal_eval(quoted)
                match = re.fullmatch(r"msgstr(?:\[(\d+)\])?", name)
                if match:
                    key = int(match.group(1) or 0)
                    entry["msgstr"][key] = value
                else:
                    key = name
                    entry[key] = value
        if "msgid" in entry:
            found.append(entry)
    return found


def test_there_are_english_and_chinese_catalogues_for_pages_and_scripts():
    names = {str(path.relative_to(LOCALE)) for path in CATALOGUES}
    assert {
        "en/LC_MESSAGES/django.po",
        "en/LC_MESSAGES/djangojs.po",
        "zh_Hans/LC_MESSAGES/django.po",
        "zh_Hans/LC_MESSAGES/djangojs.po",
    } <= names


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: str(path.relative_to(LOCALE)))
def test_every_entry_is_translated_keeps_its_placeholders_and_is_not_fuzzy(path):
    messages = [entry for entry in entries(path) if entry["msgid"]]
    assert len(messages) > 20
    for entry in messages:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        assert entry["msgstr"] and all(entry["msgstr"].values()), entry["msgid"]
        for translation in entry["msgstr"].values():
            assert sorted(PLACEHOLDER.findall(translation)) == sorted(
                PLACEHOLDER.findall(entry["msgid"])
            ), entry["msgid"]
    header = next(entry for entry in entries(path) if not entry["msgid"])
    assert "fuzzy" not in header["flags"]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: str(path.relative_to(LOCALE)))
def test_the_committed_mo_is_the_po_compiled(path):
    mo = path.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run manage.py compilemessages (docs/i18n.md)"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    messages = [entry for entry in entries(path) if entry["msgid"]]
    # The .mo holds exactly the .po's messages (plus its header).
    assert len(compiled._catalog) - 1 == sum(len(entry["msgstr"]) for entry in messages)
    for entry in messages:
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            for count, index in ((1, 0), (2, 1)):
                expected = entry["msgstr"].get(index, entry["msgstr"][0])
                if context:
                    got = compiled.npgettext(context, entry["msgid"], entry["msgid_plural"], count)
                else:
                    got = compiled.ngettext(entry["msgid"], entry["msgid_plural"], count)
                assert got == expected, entry["msgid"]
        elif context:
            assert compiled.pgettext(context, entry["msgid"]) == entry["msgstr"][0]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]


def test_every_marked_string_is_in_the_catalogues(tmp_path):
    """makemessages over a copy of the code finds no string the catalogues lack: a string
    marked for translation on a page no walk reaches (an error path) is caught here. Needs
    GNU gettext (xgettext), as editing the catalogues does; skipped without it."""
    import shutil
    import subprocess
    import sys

    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")
    root = LOCALE.parent
    for name in ("config", "evaluation", "templates", "static", "locale"):
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "manage.py", tmp_path / "manage.py")
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "-d", domain,
             "--no-obsolete", "--add-location", "file"],
            cwd=tmp_path, check=True, capture_output=True,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path),
                 "DJANGO_SETTINGS_MODULE": "config.settings_test",
                 "EARSHOT_VAR_DIR": str(tmp_path / "var")},
        )  # fmt: skip
        fresh = entries(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po")
        missing = [
            entry["msgid"]
            for entry in fresh
            if entry["msgid"] and (not all(entry["msgstr"].values()) or "fuzzy" in entry["flags"])
        ]
        assert missing == [], f"{domain}: run `make messages` and translate (docs/i18n.md)"
