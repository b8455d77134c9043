"""Who a source says spoke a quote, and what a cut or an elision leaves out (ledger.speech)."""

from __future__ import annotations

import pytest

from ledger.quotes import TextIndex
from ledger.speech import Speaker, SpeechText, name_tokens

DONG = Speaker("Han Dong", (name_tokens("Han Dong"), name_tokens("Hang Dong")))
JOLY = Speaker("Mélanie Joly", (name_tokens("Mélanie Joly"),))
TRUDEAU = Speaker(
    "Justin Trudeau",
    (name_tokens("Justin Trudeau"),),
    frozenset(name_tokens("Prime Minister of Canada")),
)


def speaker_of(text: str, quote: str, speaker: Speaker):
    start = text.index(quote)
    return SpeechText(text).check_speaker(start=start, end=start + len(quote), speaker=speaker)


@pytest.mark.parametrize(
    "text",
    [
        '"What has been reported is false," said Dong in his remarks.',
        '"What has been reported is false," Dong said.',
        "Dong told reporters that what has been reported is false.",
        "According to Han Dong, what has been reported is false.",
        "Dong has since said what has been reported is false.",
        "Hang Dong, who denied it, said what has been reported is false.",
        'Dong spoke on Tuesday.\n\n"What has been reported is false," he said.',
        'Dong said, "Let me be clear."\n\n"What has been reported is false."',
        "Signed by (Member of Parliament): Han Dong\n\nWhat has been reported is false.",
    ],
)
def test_attributions_that_name_the_speaker(text: str) -> None:
    quote = "What" if "What" in text else "what"
    check = speaker_of(text, quote + " has been reported is false", DONG)
    assert check.status == "confirmed", check


def test_a_quote_credited_to_someone_else_is_a_mismatch() -> None:
    text = '"Let me be clear. What has been reported is false," said Dong in his remarks.'
    check = speaker_of(text, "What has been reported is false", JOLY)
    assert check.status == "mismatch" and [a.shown for a in check.found] == ["Dong"]
    assert check.where == "sentence"


def test_a_pronoun_takes_the_nearest_name_before_it() -> None:
    text = 'Dong spoke to reporters on Tuesday.\n\n"I was not offered any help," he said.'
    check = speaker_of(text, "I was not offered any help", JOLY)
    assert check.status == "mismatch" and check.found[0].shown == "he (Dong)"


def test_titles_and_descriptions() -> None:
    text = "The prime minister said he had instructed CSIS to change its processes."
    assert speaker_of(text, "he had instructed CSIS", TRUDEAU).status == "confirmed"
    # A description that is not the speaker's is no evidence either way.
    assert speaker_of(text, "he had instructed CSIS", DONG).status == "unconfirmed"
    text = "Conservative Leader Pierre Poilievre said the government was weak."
    poilievre = Speaker("Pierre Poilievre", (name_tokens("Pierre Poilievre"),))
    assert speaker_of(text, "the government was weak", poilievre).status == "confirmed"


def test_words_that_look_like_attributions_but_are_not() -> None:
    # A capitalized "States" is a name, not a verb; "released by" is not speech; words
    # inside the source's own quotation marks are the speaker's, not an attribution.
    for text, quote in [
        ("They want a registry like the United States of America has.", "a registry"),
        ("The two Canadians were released by Beijing in September.", "The two Canadians"),
        ('The MP wrote: "Joly said nothing, and the minister is wrong."', "the minister is wrong"),
    ]:
        check = speaker_of(text, quote, DONG)
        assert check.status != "mismatch", (text, check)
    # Narration whose paragraph names no one borrows no speaker from the one before.
    text = '"I am leaving," he said, after Dong spoke.\n\nThe detention was retaliatory.'
    assert speaker_of(text, "The detention was retaliatory", JOLY).status == "unconfirmed"


def test_sentences_do_not_end_at_titles_or_initials() -> None:
    text = SpeechText("Mr. Dong met U.S. officials. He left. “Go.” Then he spoke.")
    paragraph = text._paragraph(0)
    assert [text.text[a:b] for a, b in paragraph.sentences] == [
        "Mr. Dong met U.S. officials.",
        "He left.",
        "“Go.”",
        "Then he spoke.",
    ]


SEED = (
    "I was not offered, I was not told, I was not informed, nor would I accept any help "
    "from a foreign country, whether during my nomination or during my campaign."
)


@pytest.mark.parametrize(
    "quote, dropped",
    [
        ("I was … offered … any help from a foreign country", ["not", "nor"]),
        ("I was not offered … nor would I accept any help", []),  # whole clauses left out
        ("I was not offered, I was … told", ["not"]),
        ("any help from a foreign country … during my campaign", []),
    ],
)
def test_elisions_that_drop_a_negation(quote: str, dropped: list[str]) -> None:
    parts = TextIndex(SEED).elided_parts(quote=quote)
    assert len(parts) >= 2
    assert SpeechText(SEED).dropped_negations(parts)[0] == dropped


def test_a_reversal_counts_wherever_the_elision_drops_it() -> None:
    text = "The report is accurate, but not in its conclusions, and we stand by it."
    parts = TextIndex(text).elided_parts(quote="The report is accurate … and we stand by it")
    dropped, passages = SpeechText(text).dropped_negations(parts)
    assert dropped == ["but"] and passages == [", but not in its conclusions,"]


def test_elided_parts_are_placed_tightly() -> None:
    text = "I was there. Later I was not offered any help."
    parts = TextIndex(text).elided_parts(quote="I was … offered")
    assert [text[a:b] for a, b in parts] == ["I was", "offered"]
    assert text[parts[0][0] - 6 : parts[0][0]] == "Later "


def test_french_negations_apply_to_a_french_source() -> None:
    text = "Je n'ai jamais reçu d'aide étrangère."
    parts = TextIndex(text).elided_parts(quote="Je … reçu d'aide étrangère")
    assert SpeechText(text, language="fr").dropped_negations(parts)[0] == ["n'", "jamais"]
    assert SpeechText(text, language="en").dropped_negations(parts)[0] == []


@pytest.mark.parametrize(
    "text, quote, side, words",
    [
        (
            "The minister said the RCMP shut the stations, but that assertion has been questioned.",
            "the RCMP shut the stations",
            "end",
            ("but",),
        ),
        (
            "Dong confirmed the talk, but denied that he advised Beijing to delay.",
            "he advised Beijing to delay",
            "start",
            ("denied",),
        ),
        (
            "CBC News has not verified the allegations.",
            "verified the allegations",
            "start",
            ("not",),
        ),
    ],
)
def test_cuts_that_hide_a_negation_or_qualifier(text, quote, side, words) -> None:
    start = text.index(quote)
    [cut] = SpeechText(text).check_cut(start=start, end=start + len(quote), quote=quote)
    assert (cut.side, cut.words) == (side, words)


@pytest.mark.parametrize(
    "text, quote",
    [
        (
            "The vote was 170 to 150, with the Liberals voting against it.",
            "The vote was 170 to 150",
        ),
        (
            'Dong said, "I am a proud Liberal, not a traitor."',
            "I am a proud Liberal, not a traitor",
        ),
        ("He said it, but that was not true.", "… He said it …"),
        ("While the motion is not binding, it will raise the heat.", "it will raise the heat"),
    ],
)
def test_cuts_that_are_harmless_or_marked(text, quote) -> None:
    core = quote.strip("… ")
    start = text.index(core)
    assert SpeechText(text).check_cut(start=start, end=start + len(core), quote=quote) == []
