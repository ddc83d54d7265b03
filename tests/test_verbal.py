"""Verbal cues and word attribution on word tables whose answers are known by construction."""

import numpy as np
import pandas as pd
import pytest

from cuekit.cues import make_words
from cuekit.dynamics.verbal import content_stems, load_phrases, stem, verbal_cues
from cuekit.dynamics.words import attribute_words, transcript_words, utterances
from cuekit.errors import InputError


def _say(rows, who, t, text, step=0.3):
    """Append ``text``'s words for ``who`` from ``t`` s, one word every ``step`` s; the end."""
    for w in text.split():
        rows.append((t, t + step * 0.9, who, w, 0.9))
        t += step
    return t


def _call(*lines):
    """``(who, text)`` lines one after the other, 1 s apart; the words table."""
    rows, t = [], 0.0
    for who, text in lines:
        t = _say(rows, who, t, text) + 1.0
    return make_words(rows)


def _kinds(res, kind):
    seg = res.segments[res.segments["kind"] == kind]
    return list(zip(seg["participant"], seg["label"], strict=True))


SPEECH = {"A": 60.0, "C": 60.0}


def test_questions_open_closed_and_clarifying():
    words = _call(("C", "My bill went up after I moved to the new apartment."),
                  ("A", "How long have you lived there?"),
                  ("C", "Two months."),
                  ("A", "Is the card still active?"),
                  ("C", "Yes it is."),
                  ("A", "Do you mean the card from your old account?"),
                  ("A", "I will check it now."))
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH)
    labels = [label.split(":")[0] for who, label in _kinds(res, "question") if who == "A"]
    assert labels == ["open", "closed", "clarifying"]
    s = res.summary["A"]
    assert (s["questions"], s["open_questions"], s["clarifying_questions"]) == (3, 1, 1)
    assert res.summary["C"]["questions"] == 0


def test_a_rising_sentence_without_a_question_mark_is_a_question_only_with_the_rise():
    words = _call(("A", "Have paid already."), ("C", "Yes."), ("A", "No I did not."))
    end = float(words["end"].iloc[2])
    t = np.arange(0.0, float(words["end"].max()) + 0.5, 0.01)
    flat = {"A": (t, np.full(len(t), 40.0))}
    rising = {"A": (t, np.where(t >= end - 0.5, 44.0, 40.0))}
    assert not _kinds(verbal_cues(words, ["A", "C"], speech_s=SPEECH, pitch=flat), "question")
    q = _kinds(verbal_cues(words, ["A", "C"], speech_s=SPEECH, pitch=rising), "question")
    assert q == [("A", "closed: Have paid already.")]
    late = float(words["end"].iloc[-1])  # a rising statement is no question
    rising_late = {"A": (t, np.where(t >= late - 0.5, 44.0, 40.0))}
    assert not _kinds(verbal_cues(words, ["A", "C"], speech_s=SPEECH, pitch=rising_late),
                      "question")


def test_a_paraphrase_restates_the_others_turn_and_names_it():
    words = _call(("C", "I was charged twice for my order and nobody answered my emails."),
                  ("A", "So you were charged twice for the order and nobody answered."),
                  ("C", "Exactly."),
                  ("A", "The refund takes three working days."))
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH)
    para = _kinds(res, "paraphrase")
    assert len(para) == 1 and para[0][0] == "A"
    assert para[0][1].startswith("restates C's words at 0.0–")
    assert res.summary["A"]["paraphrases"] == 1 and res.summary["C"]["paraphrases"] == 0


def test_words_that_share_nothing_with_the_other_turn_are_no_paraphrase():
    words = _call(("C", "My internet keeps dropping every evening."),
                  ("A", "So the refund takes three working days."))
    assert not _kinds(verbal_cues(words, ["A", "C"], speech_s=SPEECH), "paraphrase")


def test_a_question_that_echoes_the_other_is_clarifying_not_a_paraphrase():
    words = _call(("C", "The replacement phone arrived with a cracked screen."),
                  ("A", "Was the screen cracked when the phone arrived?"))
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH)
    assert not _kinds(res, "paraphrase")
    assert [label.split(":")[0] for _, label in _kinds(res, "question")] == ["clarifying"]


def test_empathy_acknowledgement_and_fillers():
    words = _call(("C", "The parcel never came."),
                  ("A", "I'm so sorry to hear that. Um, got it, uh, you know the parcel."),
                  ("C", "Do you know when?"))
    res = verbal_cues(words, ["A", "C"], speech_s={"A": 30.0, "C": 30.0})
    assert _kinds(res, "empathy") == [("A", "empathy: sorry to hear"),
                                      ("A", "acknowledgement: got it")]
    assert [label for _, label in _kinds(res, "filler")] == ["um", "uh", "you know"]
    assert res.summary["A"]["fillers_per_min"] == pytest.approx(3 / 0.5)
    assert res.summary["C"]["fillers_per_min"] == 0  # "do you know" is a question, not a filler


def test_talk_over_and_longest_monologue_in_words():
    rows = []
    _say(rows, "A", 0.0, "one two three four five six seven eight nine ten eleven twelve "
                         "thirteen fourteen fifteen sixteen")
    _say(rows, "C", 1.0, "wait a second please")  # inside A's utterance: talks over
    _say(rows, "C", 3.8, "mhm")                   # a backchannel: not talking over
    words = make_words(rows)
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH)
    over = _kinds(res, "talk_over")
    assert over == [("C", "4 words over A: wait a second please")]
    assert res.summary["C"]["talk_over_words"] == 4 and res.summary["A"]["talk_over_words"] == 0
    assert res.summary["A"]["longest_monologue_words"] == 16


def test_words_per_minute_is_words_over_own_speech_time():
    words = _call(("A", "one two three four five six"), ("C", "seven eight"))
    res = verbal_cues(words, ["A", "C", "D"], speech_s={"A": 3.0, "C": 1.0, "D": 5.0})
    assert res.summary["A"]["words_per_min"] == pytest.approx(6 / (3.0 / 60))
    assert res.summary["C"]["words_per_min"] == pytest.approx(2 / (1.0 / 60))
    assert np.isnan(res.summary["D"]["words_per_min"])  # none of D's words known: not 0


def test_sentiment_follows_the_words():
    words = _call(("C", "This is terrible, I am angry and upset."),
                  ("A", "Great, thank you so much, that is wonderful."))
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH)
    assert res.summary["C"]["sentiment_mean"] < -0.3 < 0.3 < res.summary["A"]["sentiment_mean"]


def test_a_phrases_file_replaces_only_the_lists_it_names(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('empathy = ["we value you"]\n')
    phrases = load_phrases(str(path))
    assert phrases.empathy == ("we value you",) and "um" in phrases.fillers
    words = _call(("C", "It broke."), ("A", "We value you. I understand."))
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH, phrases=phrases)
    assert _kinds(res, "empathy") == [("A", "empathy: we value you")]


@pytest.mark.parametrize("text, message", [
    ('sympathy = ["x"]\n', "unknown phrase list"),
    ("empathy = [1, 2]\n", "list of strings"),
    ("empathy = [\n", "not valid TOML"),
])
def test_a_bad_phrases_file_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_phrases(str(path))


def test_stems_match_word_forms():
    assert stem("charged") == stem("charges") == stem("charging") == stem("charge")
    assert content_stems("So the emails were answered".split()) == {stem("emails"),
                                                                     stem("answered")}


def test_words_go_to_whoever_speaks_then():
    speech = pd.DataFrame({"start": [0.0, 2.0, 2.5], "end": [2.0, 4.0, 3.0],
                           "participant": ["A", "C", "A"]})
    words = make_words([(0.5, 0.8, "", "hello", 0.9),    # A alone
                        (2.1, 2.4, "", "well", 0.9),     # C alone
                        (2.6, 2.9, "", "yes", 0.9),      # both: C has spoken longer before
                        (4.2, 4.4, "", "ok", 0.9),       # after C's speech, 0.2 s away
                        (9.0, 9.2, "", "huh", 0.9)])     # nobody near
    got = attribute_words(words, speech, ["A", "C"])["participant"].tolist()
    assert got == ["A", "C", "C", "C", ""]


def test_utterances_and_uploaded_transcript_words():
    cues = [dict(start=0.0, end=2.0, speaker="Ann", text="hello there friend"),
            dict(start=2.5, end=3.0, speaker="Bob", text="hi")]
    words = transcript_words(cues, {"Ann": "A", "Bob": "C"})
    assert words["word"].tolist() == ["hello", "there", "friend", "hi"]
    assert words["start"].tolist()[:3] == pytest.approx([0.0, 2 / 3, 4 / 3])
    assert np.isnan(words["probability"]).all()
    utts = utterances(words)
    assert [(u.participant, u.text) for u in utts] == [("A", "hello there friend"), ("C", "hi")]


def test_the_question_clause_after_a_comma_decides_open_or_closed():
    words = _call(("A", "Thank you for calling, how can I help?"),
                  ("C", "Well, is it true?"))
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH)
    assert [label.split(":")[0] for _, label in _kinds(res, "question")] == ["open", "closed"]


def test_phrases_match_other_forms_of_their_words():
    words = _call(("C", "It broke again."), ("A", "That sound really stressful."))
    assert _kinds(verbal_cues(words, ["A", "C"], speech_s=SPEECH), "empathy") == [
        ("A", "empathy: that sounds really")]


def test_if_i_understand_opens_a_paraphrase_and_is_no_empathy_statement():
    words = _call(("C", "My bill went up after I moved."),
                  ("A", "If I understand correctly, your bill went up after you moved."),
                  ("A", "I understand, that is annoying."))
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH)
    assert [label for _, label in _kinds(res, "empathy")] == ["empathy: i understand"]
    assert len(_kinds(res, "paraphrase")) == 1


def test_question_word_order_makes_a_question_without_a_question_mark():
    words = _call(("A", "Is the card still active."), ("C", "Yes."),
                  ("A", "Just to clarify was this on your main account."), ("C", "Yes."),
                  ("A", "Is what it is."), ("C", "True."))
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH)
    assert [label.split(":")[0] for _, label in _kinds(res, "question")] == ["closed", "clarifying"]


def test_an_opener_sentence_carries_to_the_restatement_after_it():
    words = _call(("C", "I have called three times about the broken heater."),
                  ("A", "Let me make sure I have this right. You called three times and nobody "
                        "fixed it."),
                  ("C", "Yes, and the heater is still broken since Monday."),
                  ("A", "What, um, I'm hearing is the heater is still broken."))
    res = verbal_cues(words, ["A", "C"], speech_s=SPEECH)
    assert len(_kinds(res, "paraphrase")) == 2
