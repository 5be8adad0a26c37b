"""Languages of the API: `Accept-Language: nl|en` (or the user's saved language) picks the
language of every message (docs/api.md, Conventions), and the Dutch catalogue is complete.

The catalogue checks are what catch a new string: `make messages` adds it untranslated
(or fuzzy when a msgid changed slightly) and the tests below fail until it is translated
and compiled. A string added to the code without running `make messages` at all is caught
by test_catalogue_has_every_string_in_the_code.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from tests.factories import AdminFactory, UserFactory
from tests.feed.factories import PostFactory

# One catalogue for every app: API messages, labels, and the push texts each app declares
# with its events (<app>/events.py).
CATALOGUE = Path(settings.BASE_DIR) / "locale" / "nl" / "LC_MESSAGES" / "django.po"
CATALOGUES = pytest.mark.parametrize("catalogue", [CATALOGUE], ids=["project"])
# What `make messages` leaves out of the catalogue.
IGNORED = [".venv", "tests", "bench", "staticfiles", "clients"]


@pytest.fixture(autouse=True)
def _back_to_english():
    # A request activates a language for the thread; do not leak it into the next test.
    yield
    translation.activate(settings.LANGUAGE_CODE)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


# --- Picking the language -----------------------------------------------------------------


@pytest.fixture
def employee(org):
    return UserFactory(organization=org)


@pytest.fixture
def admin(org):
    return AdminFactory(organization=org)


def test_validation_error_in_dutch(api, employee):
    error = error_of(api(employee, language="nl").get("/api/v1/users", {"page_size": "0"}), 400)
    assert error["message"] == "page_size: Moet tussen 1 en 100 liggen."
    assert error["fields"] == {"page_size": ["Moet tussen 1 en 100 liggen."]}


def test_service_validation_error_in_dutch(api, employee):
    response = api(employee, language="nl").post(
        "/api/v1/kudos", {"recipient_ids": [employee.pk], "message": "Goed gedaan vandaag!"}, format="json"
    )
    error = error_of(response, 400)
    assert error["code"] == "self_kudos"
    assert error["message"] == "Je kunt jezelf geen kudos geven."


def test_serializer_error_in_dutch(api):
    # DRF's own messages come from its Dutch catalogue.
    error = error_of(api(language="nl").post("/api/v1/auth/login", {}, format="json"), 400)
    assert error["fields"]["password"] == ["Dit veld is vereist."]


def test_not_found_in_dutch(api, employee):
    assert error_of(api(employee, language="nl").get("/api/v1/posts/999999"), 404)["message"] == "Niet gevonden."
    # An unknown URL is answered by Django's handler404, outside DRF.
    assert error_of(api(employee, language="nl").get("/api/v1/no-such-endpoint"), 404)["message"] == "Niet gevonden."


def test_permission_errors_in_dutch(api, employee):
    client = api(employee, language="nl")
    # A permission class (IsOrgAdmin) ...
    error = error_of(client.post("/api/v1/groups", {"name": "Bakkerij", "kind": "team"}, format="json"), 403)
    assert error["message"] == "Alleen beheerders van je organisatie mogen dit doen."
    # ... and a service's NotAllowed.
    post = PostFactory(author=employee)
    error = error_of(client.post(f"/api/v1/posts/{post.pk}/pin"), 403)
    assert error["message"] == "Alleen leidinggevenden en beheerders mogen berichten vastzetten."


def test_unauthenticated_in_dutch(api, db):
    client = api(token="not-a-real-token", language="nl")
    assert error_of(client.get("/api/v1/me"), 401)["message"] == "Je inlogtoken is ongeldig of verlopen."


def test_english_without_header(api, employee):
    client = api(employee)
    assert error_of(client.get("/api/v1/posts/999999"), 404)["message"] == "Not found."
    error = error_of(client.post("/api/v1/groups", {"name": "Bakery", "kind": "team"}, format="json"), 403)
    assert error["message"] == "Only admins of your organisation may do this."
    assert error_of(client.get("/api/v1/users", {"page_size": "0"}), 400)["message"] == "page_size: Must be between 1 and 100."


def test_saved_language_without_header(api, employee):
    employee.language = "nl"
    employee.save(update_fields=["language"])
    response = api(employee).get("/api/v1/posts/999999")
    assert error_of(response, 404)["message"] == "Niet gevonden."
    assert response["Content-Language"] == "nl"


def test_organisation_language_when_user_saved_none(api, employee):
    employee.organization.default_language = "nl"
    employee.organization.save(update_fields=["default_language"])
    assert error_of(api(employee).get("/api/v1/posts/999999"), 404)["message"] == "Niet gevonden."


@pytest.mark.parametrize(
    ("saved", "header", "expected"),
    [
        ("nl", "en", "Not found."),
        ("en", "nl", "Niet gevonden."),
        ("en", "nl-NL,nl;q=0.9,en;q=0.8", "Niet gevonden."),
        ("nl", "en-GB", "Not found."),
        # A language we do not offer is no choice: the saved language decides.
        ("nl", "fr-FR,fr;q=0.9", "Niet gevonden."),
        ("nl", "*", "Niet gevonden."),
        ("nl", "", "Niet gevonden."),
    ],
)
def test_header_wins_over_saved_language(api, employee, saved, header, expected):
    employee.language = saved
    employee.save(update_fields=["language"])
    client = api(employee)
    response = client.get("/api/v1/posts/999999", HTTP_ACCEPT_LANGUAGE=header)
    assert error_of(response, 404)["message"] == expected


def test_saved_language_reaches_middleware_errors(api, admin):
    # The idempotency middleware answers before DRF runs: it must speak the user's language too.
    admin.language = "nl"
    admin.save(update_fields=["language"])
    client = api(admin)
    key = "0b7c9a52-6a1e-4d4e-9a3e-3c1f1f5e2a10"
    assert client.post("/api/v1/groups", {"name": "Bakkerij"}, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    response = client.post("/api/v1/groups", {"name": "Slagerij"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert error_of(response, 422)["message"] == "Deze Idempotency-Key is al gebruikt voor een ander verzoek."


@pytest.mark.parametrize(("header", "expected"), [("", "Niet gevonden."), ("en", "Not found.")])
def test_an_unknown_route_speaks_the_saved_language_too(api, employee, header, expected):
    # Django answers an unknown URL before any view (and so before DRF's authentication):
    # its 404 took the default language whatever the user had saved.
    employee.language = "nl"
    employee.save(update_fields=["language"])
    response = api(employee).get("/api/v1/no-such-route", HTTP_ACCEPT_LANGUAGE=header)
    assert error_of(response, 404)["message"] == expected
    assert response["Content-Language"] == ("nl" if expected == "Niet gevonden." else "en")
    # A bad token is no user: the default language, and still a 404 (not a 401) for a route that does not exist.
    assert error_of(api(token="nope").get("/api/v1/no-such-route"), 404)["message"] == "Not found."


def test_language_does_not_leak_between_requests(api, employee, org):
    dutch = UserFactory(organization=org, language="nl")
    assert error_of(api(dutch).get("/api/v1/posts/999999"), 404)["message"] == "Niet gevonden."
    assert error_of(api(employee).get("/api/v1/posts/999999"), 404)["message"] == "Not found."


# --- The catalogue --------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str
    msgstr: dict[int, str]  # 0 for a singular entry; the plural index otherwise
    msgctxt: str | None = None
    msgid_plural: str | None = None
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        # How gettext keys its catalogue: context\x04msgid; plural forms by (msgid, n).
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def read_po(path: Path) -> list[Entry]:
    """A minimal .po reader (no polib in the venv): msgctxt, msgid(_plural), msgstr([n]), flags.

    Obsolete entries (#~) are skipped; the header (msgid "") is returned like any entry.
    """
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        flags: set[str] = set()
        parts: dict[str, str] = {}
        current = None
        for line in lines:
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                parts[current] += ast.literal_eval(line)
            else:
                current, literal = line.split(" ", 1)
                parts[current] = ast.literal_eval(literal)
        msgstr = {0: parts["msgstr"]} if "msgstr" in parts else {}
        msgstr |= {int(key[7:-1]): value for key, value in parts.items() if key.startswith("msgstr[")}
        entries.append(Entry(parts["msgid"], msgstr, parts.get("msgctxt"), parts.get("msgid_plural"), flags))
    return entries


PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdif]|\{\w*\}")


@CATALOGUES
def test_catalogue_is_fully_translated(catalogue):
    entries = read_po(catalogue)
    header = next(entry for entry in entries if entry.msgid == "")
    assert "fuzzy" not in header.flags
    assert "Language: nl\n" in header.msgstr[0]
    messages = [entry for entry in entries if entry.msgid]
    assert len(messages) > 20, "the catalogue lost its messages"
    fuzzy = [entry.msgid for entry in messages if "fuzzy" in entry.flags]
    untranslated = [entry.msgid for entry in messages if not all(entry.msgstr.values()) or not entry.msgstr]
    assert not fuzzy, f"fuzzy entries in {catalogue}: check and translate them, then drop the flag: {fuzzy}"
    assert not untranslated, f"untranslated entries in {catalogue} (translate, then `make messages`): {untranslated}"


@CATALOGUES
def test_translations_keep_placeholders_and_line_breaks(catalogue):
    for entry in read_po(catalogue):
        if not entry.msgid:
            continue
        for text in entry.msgstr.values():
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid)), entry.msgid
            assert text.count("\n") == entry.msgid.count("\n"), entry.msgid
            assert text.endswith(" ") == entry.msgid.endswith(" "), entry.msgid  # concatenated fragments


@CATALOGUES
def test_compiled_catalogue_matches_the_po(catalogue):
    """The committed .mo holds exactly the .po's translations: a .po edited without `make messages` fails."""
    compiled = gettext.GNUTranslations(catalogue.with_suffix(".mo").open("rb"))._catalog
    expected: dict = {}
    for entry in read_po(catalogue):
        if entry.msgid == "" or "fuzzy" in entry.flags or not all(entry.msgstr.values()):
            continue  # msgfmt leaves these out
        if entry.msgid_plural is None:
            expected[entry.key] = entry.msgstr[0]
        else:
            expected |= {(entry.key, n): text for n, text in entry.msgstr.items()}
    compiled = {key: value for key, value in compiled.items() if key != ""}
    missing = {key for key in expected if key not in compiled}
    stale = {key for key in compiled if key not in expected}
    changed = {key for key in expected.keys() & compiled.keys() if expected[key] != compiled[key]}
    assert not (missing or stale or changed), f"run `make messages`: missing {missing}, stale {stale}, changed {changed}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_catalogue_has_every_string_in_the_code(tmp_path, monkeypatch, settings):
    """Extract the strings of a copy of the code as `make messages` would and compare msgids."""
    source = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    shutil.copytree(
        source,
        copy,
        ignore=shutil.ignore_patterns(*IGNORED, "locale", ".git", "__pycache__", "*.pyc", "uploads", "*.sqlite3", ".*cache"),
    )
    (copy / "locale" / "nl" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(CATALOGUE, copy / "locale" / "nl" / "LC_MESSAGES" / "django.po")
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["nl"], no_obsolete=True, ignore_patterns=list(IGNORED), verbosity=0)

    def msgids(path: Path) -> set:
        return {entry.key for entry in read_po(path) if entry.msgid}

    fresh = msgids(copy / "locale" / "nl" / "LC_MESSAGES" / "django.po")
    committed = msgids(CATALOGUE)
    new, gone = sorted(fresh - committed), sorted(committed - fresh)
    assert fresh == committed, f"the catalogue is out of date; run `make messages` and translate. New: {new}; gone: {gone}"
