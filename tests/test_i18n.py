"""The interface speaks Simplified Chinese by default and English on request, and the Chinese
catalogue translates every message the code and templates use."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None,
            "ngettext": (1, 2)}
SOURCES = ("app", "cases", "mediators", "workflows", "statutes", "templates")


def used_msgids() -> set[str]:
    found = set()
    for folder in SOURCES:
        method_map = [("**.py", "python"), ("**.html", "jinja2")]
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map, keywords=KEYWORDS):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_a_chinese_translation():
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0]
                  for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(used_msgids() - translated)
    assert missing == [], f"{len(missing)} messages lack a Chinese translation: {missing[:20]}"


def test_sign_in_page_is_chinese_by_default_and_english_on_request(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in english and "登录" not in english


def test_language_choice_sticks(client):
    client.get("/lang/en")
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    client.get("/lang/zh_Hans_CN")
    assert "登录" in client.get("/login").get_data(as_text=True)
