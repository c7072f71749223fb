"""The interface's gettext catalogs: complete, consistent, read the way translators write them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cati.web.i18n import LANGUAGES, catalog_problems, keys_in_source, load_catalogs

ROOT = Path(__file__).resolve().parents[2]


def test_every_key_the_code_and_templates_use_is_translated_in_both_languages():
    used = keys_in_source()
    assert "console.notes" in used and "auth.login.heading" in used  # python and templates
    assert catalog_problems(used) == []


def test_a_key_missing_from_the_catalogs_is_named_with_where_it_is_used():
    problems = catalog_problems({"console.nosuch": "web/console/views.py:12"})
    assert problems == [
        f"web/console/views.py:12: 'console.nosuch' is not translated in {language}"
        for language in LANGUAGES
    ]


def test_catalogs_are_po_files_and_an_untranslated_entry_is_left_out(tmp_path):
    for language, text in (("vi", "Ghi chú"), ("en", "")):
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "messages.po").write_text(
            f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
            f'#, python-brace-format\nmsgid "console.notes"\nmsgstr "{text}"\n',
            encoding="utf-8",
        )
    assert load_catalogs(tmp_path, ("vi", "en")) == {"vi": {"console.notes": "Ghi chú"}, "en": {}}


def test_the_translations_script_checks_the_catalogs():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/translations"), "check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    usage = subprocess.run([sys.executable, str(ROOT / "scripts/translations")],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert usage.returncode == 2 and "update" in usage.stderr
