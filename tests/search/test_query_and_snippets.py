"""The query parser, the language guess and snippet escaping: no database."""

from __future__ import annotations

import pytest

from search.language import detect_language
from search.query import Term, parse_query
from search.snippet import START, STOP, highlight, render_marked
from server.api.exceptions import ValidationFailed


def test_words_phrases_exclusions_and_or():
    query = parse_query('  kassa  "return policy" -rooster or kerst')
    assert query.text == 'kassa "return policy" -rooster or kerst'
    assert query.groups == [[Term("kassa"), Term("return policy"), Term("rooster", negated=True)], [Term("kerst")]]
    assert query.last == ""  # `or` in the query: no prefix


def test_the_last_plain_word_is_a_prefix_until_a_space_follows():
    assert (parse_query("klanten retourbel").head, parse_query("klanten retourbel").last) == ("klanten", "retourbel")
    assert parse_query("retourbel ").last == ""
    assert parse_query('"return policy"').last == ""
    assert parse_query("kassa -rooster").last == ""
    assert parse_query("A12-B").last == ""


@pytest.mark.parametrize("raw", [None, "", "   ", "x" * 201])
def test_empty_or_long_queries_are_refused(raw):
    with pytest.raises(ValidationFailed):
        parse_query(raw)


def test_only_exclusions_leave_nothing_to_look_for():
    assert parse_query("-kassa").groups == []


@pytest.mark.parametrize(
    ("text", "fallback", "language"),
    [
        ("De klant is blij met de nieuwe kassa", "", "nl"),
        ("The customer is happy with the new till", "", "en"),
        ("Kassa 3", "en", "en"),
        ("Kassa 3", "", ""),
        ("Kassa 3", "de", ""),
    ],
)
def test_language_guess(text, fallback, language):
    assert detect_language(text, fallback=fallback) == language


def test_marked_text_is_escaped_with_mark_as_the_only_tag():
    marked = render_marked(f"<b>{START}kassa{STOP}</b> & {START}<i>{STOP}")
    assert marked == "&lt;b&gt;<mark>kassa</mark>&lt;/b&gt; &amp; <mark>&lt;i&gt;</mark>"
    assert render_marked(f"stray {STOP} then {START} open") == "stray  then  open"


def test_highlight_marks_every_occurrence_around_the_first():
    text = "Intro " * 60 + "de <script>Kassa</script> en de kassa"
    snippet = highlight(text, ["kassa"])
    assert snippet.startswith("… ")
    assert "&lt;script&gt;<mark>Kassa</mark>&lt;/script&gt;" in snippet and snippet.endswith("<mark>kassa</mark>")
