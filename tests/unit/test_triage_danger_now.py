"""P1 is danger to life *now*: what the rules read outright (a death threat, a person held, self-harm, an emoji
SOS) and what says there is no danger now (nobody hurt, what could happen, help has come, a missing adult)."""

from __future__ import annotations

import sys

import pytest
from seva.triage import classify, default_triager
from seva.triage.classifier import _age, decide
from seva.triage.model import Prediction
from seva.triage.text import tokens

from tests.conftest import ROOT


def rules_of(text):
    return default_triager().read({"id": "1", "text": text})[0]


def model_says(p1, noise=0.05, category="violent_crime"):
    return Prediction(noise, 1 - p1 - noise, p1, {category: 1.0})


THRESHOLDS = (0.3, 0.5)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("@lkopolice_cp अमीनाबाद मार्केट में abhi abhi जेब कट गई, पर्स में 12k the. कोई चोट नहीं", "nobody hurt"),
        ("@jhansipolice minor collision at Elite chauraha just now, nobody injured, he refuses to pay", "nobody hurt"),
        ("@varanasipolice junction box khula pada h, baarish me koi mar jayega tab jaagoge?", "what could happen"),
        (
            "@kheripolice open borewell pit near Gola, please get it covered before something happens",
            "what could happen",
        ),
        ("@rampurpolice मेरे पिताजी पर फरसे से हमला किया, अभी अस्पताल में भर्ती हैं, आरोपी फरार", "help has come"),
    ],
)
def test_a_model_p1_with_no_danger_now_is_downgraded(text, why):
    # Given the model leans to P1 on a tweet that says nobody was hurt, what could happen, or that help has come
    decision = decide(model_says(0.8), rules_of(text), THRESHOLDS)
    # Then it is a complaint, not P1, and the reason says why
    assert (decision.is_complaint, decision.p1, decision.downgraded) == (True, False, why)


def test_a_missing_adult_is_not_p1_even_when_the_age_is_written_in_words():
    text = "@ayodhyapolice हमार भाई बीस बरस कै, तीन दिन से घर नाहीं आवा, फोन बंद अहै"
    decision = decide(model_says(0.8, category="missing_person"), rules_of(text), THRESHOLDS)
    assert (decision.p1, decision.downgraded) == (False, "missing adult")


def test_a_still_ongoing_danger_is_not_downgraded():
    # Given "nobody hurt yet" but the text says it is going on right now
    text = "@moradabadpol drunk men fighting outside the liquor shop right now, bottles thrown, nobody hurt yet"
    # Then the model's P1 stands
    assert decide(model_says(0.8), rules_of(text), THRESHOLDS).p1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("@amrohapolice حسن پور میں بھائی کو دھمکی دی کہ زمین چھوڑ دو ورنہ قتل کر دیں گے", "death threat"),
        ("@balliapolice dabang laika talwar leke baba ke khojat baadan, kahat baadan aaj kaat deb", "death threat"),
        ("@bhadohipolice mazdoori maangne gaye to bola dobara aaye to goli maar dunga", "death threat"),
        ("@kasganjpolice मेरे बेटे को ठेकेदार ने 2 दिन से बंधक बना रखा है, छोड़ने के पैसे मांग रहा है", "held captive"),
        ("@prayagraj_cp रूम पार्टनर ने कहा कि अब जीने का कोई मतलब नहीं, कमरा अंदर से बंद है", "self-harm"),
        ("🔥🔥🔥🆘 Naka Hindola kapda market @lkopolice_cp", "emoji_sos"),
    ],
)
def test_danger_the_rules_read_outright_is_p1_whatever_the_model_says(text, reason):
    # Given the model gives it little chance of P1 (the emoji SOS: it even takes it for noise)
    prediction = model_says(0.05, noise=0.9 if reason == "emoji_sos" else 0.05)
    # When decided
    decision = decide(prediction, rules_of(text), THRESHOLDS)
    # Then the rules' reading makes it P1, and says why
    assert decision.p1 and reason in decision.reasons


@pytest.mark.parametrize(
    "text",
    [
        "@aligarhpolice मार्च 2023 में मुझे जान से मारने की धमकी मिली थी, आज तक आरोप पत्र नहीं लगा",  # a named year
        "@meerutpolice 2 saal pehle jaan se maarne ki dhamki di thi, case ka kya hua",
        "@Uppolice महोबा थाने में मेरी मोटरसाइकिल जमा है, छोड़ने के पैसे माँगे जा रहे हैं",  # a bribe, not a ransom
        "@Uppolice gold jeeta 🥇🔥",  # 🔥 is praise too
    ],
)
def test_past_threats_bribes_and_praise_are_not_read_as_danger_now(text):
    assert not decide(model_says(0.05), rules_of(text), THRESHOLDS).p1


def test_a_downgraded_p1_goes_to_a_person_with_the_reason():
    # Given the shipped triage and a tweet it would make P1 but for "nobody hurt"
    triager = default_triager()
    text = "@lkopolice_cp auto driver grabbed my bag and pushed me out just now at Alambagh. I'm ok, nobody hurt"
    result = triager.classify({"id": "1", "text": text})
    decision = decide(triager.model.predict(triager.read({"text": text})[1]), rules_of(text), (0.0, 0.0))
    assert decision.downgraded == "nobody hurt"  # with any threshold, the model's P1 would be downgraded
    # Then the result is not P1, and a person looks at it
    assert result.priority != "P1"
    assert result.needs_review and "P1 signal" in result.review_reason


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("हमार नाती भोर से नाहीं मिलत, पांच बरस कै अहै", 5),
        ("hamra chhota bhai (25 baris) parso se gayab ba", 25),
        ("my nephew, 16, left for coaching at 4pm", 16),
        ("میرا بیٹا پانچ سال کا ہے", 5),
        ("मेरी 22 वर्षीय बहन", 22),
        ("do saal pehle maarpeet hui thi", None),  # a time, not an age
        ("5 saal purane hatyakand me faisla", None),
    ],
)
def test_ages_are_read_in_figures_and_words_but_not_times(text, age):
    assert _age(text, tokens(text)) == age


@pytest.mark.parametrize(
    "text",
    [
        "@Uppolice my sister got married last year, the market near MG Marg is crowded",
        "@Uppolice स्टेशन मार्ग पर मार्केट में भीड़ है",
    ],
)
def test_market_married_and_marg_are_not_violence(text):
    assert "violence" not in rules_of(text).found


def test_a_missing_child_whose_age_is_in_awadhi_words_is_p1():
    result = classify({"id": "1", "text": "@gondapolice हमार नाती भोर से नाहीं मिलत, पांच बरस कै अहै, मनकापुर"})
    assert (result.is_complaint, result.category, result.priority) == (True, "missing_person", "P1")


def test_p1_thresholds_are_chosen_for_precision_at_the_recall_target():
    sys.path.insert(0, str(ROOT / "infra" / "tools"))
    import numpy as np
    import train_triage_model as training

    # Given thresholds that call all three true P1s and a false alarm, that call two P1s and nothing else, and
    # that call all three P1s and nothing else
    loose, strict, right = training.THRESHOLD_GRID[0], training.THRESHOLD_GRID[1], training.THRESHOLD_GRID[5]
    outcomes = dict.fromkeys(training.THRESHOLD_GRID, np.array([(1, 0), (1, 0), (1, 0), (0, 0)]))
    outcomes[loose] = np.array([(1, 1), (1, 1), (1, 1), (0, 1)])  # recall 1, precision 0.75
    outcomes[strict] = np.array([(1, 1), (1, 1), (1, 0), (0, 0)])  # recall 0.67, precision 1
    outcomes[right] = np.array([(1, 1), (1, 1), (1, 1), (0, 0)])  # recall 1, precision 1
    # When the thresholds are chosen
    chosen = training.best_thresholds(outcomes, np.ones(4, dtype=bool))
    # Then the recall target comes first and precision second
    assert chosen == right


def test_a_threat_set_aside_as_past_still_goes_to_a_person():
    # Given a death threat told with a past time, in words the P1 list does not hold
    text = "@balliapolice 2 saal pehle padosi ne kaha tha kaat deb, us case ka status kya hai"
    result = classify({"id": "1", "text": text})
    # Then it is not P1, but a person looks, and sees the phrase
    assert result.priority != "P1"
    assert result.needs_review and "'kaat deb'" in result.review_reason
