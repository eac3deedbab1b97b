"""Triage: district resolution, category, priority, complaint vs noise — and it never raises."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seva.triage import CATEGORIES, classify, default_triager

from tests.conftest import ROOT, shared_file

sys.path.insert(0, str(ROOT / "bench"))
from triage_bench import evaluate


def triage(text, location=None, place=None):
    author = {"id": "1", "username": "citizen", "name": "C", **({"location": location} if location else {})}
    return classify({"id": "42", "text": text}, author, place)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("@Uppolice theft in Lucknow", 162),
        ("@Uppolice लखनऊ में चोरी", 162),
        ("@Uppolice chori in Allahabad", 120),  # old name
        ("@Uppolice इलाहाबाद में चोरी", 120),
        ("@Uppolice chori Faizabad me", 140),
        ("@Uppolice phone snatched in Noida", 144),
        ("@Uppolice phone snatched in Greater Noida", 144),
        ("@Uppolice chori in Kanpur", 157),
        ("@Uppolice chori Banaras me", 187),
        ("@Uppolice काशी में चोरी", 187),
        ("@Uppolice chori Lakhimpur me", 159),
        ("@Uppolice theft in Rae Bareli", 175),
        ("@Uppolice theft in Raebareli", 175),
        ("@Uppolice चोरी, आज़मगढ़", 123),  # with nukta
        ("@Uppolice चोरी, आजमगढ़", 123),  # without
        ("@Uppolice चोरी, मुज़फ़्फ़रनगर", 172),
        ("@Uppolice चोरी, मुजफ्फरनगर", 172),
        ("@Uppolice bike stolen in Hazratganj", 162),  # locality
        ("@Uppolice bike stolen in Gomtinagar", 162),
        ("@Uppolice theft #Varanasi", 187),
        ("@Uppolice चोरी, बाँदा", 128),  # chandrabindu
    ],
)
def test_every_name_form_resolves(text, code):
    assert triage(text).district_code == code


@pytest.mark.parametrize(
    "text",
    [
        "chain snatching in Civil Lines",
        "Kotwali police not helping",
        "theft in Kaushambi",
        "bike chori Akbarpur me",
        "ek banda aaya aur phone chheen liya",
    ],
)
def test_ambiguous_names_never_route_alone(text):
    result = triage("@Uppolice " + text)
    assert result.district_code is None
    assert result.is_complaint


def test_ambiguous_names_narrow_other_evidence():
    assert triage("@Uppolice chain snatching in Civil Lines", location="Bareilly").district_code == 130
    assert triage("@Uppolice chori Kaushambi me", location="Ghaziabad").district_code == 145


def test_evidence_order_text_then_handle_then_place_then_profile():
    # Given a district handle and a place named in the text, the text's place decides (the citizen tagged the
    # handle they know)
    kanpur_in_text = classify({"id": "1", "text": "@lucknowpolice theft in Kanpur"}, {"location": "Agra"})
    assert kanpur_in_text.district_code == 157
    assert kanpur_in_text.evidence[0]["source"] == "handle"  # the handle is still recorded as evidence
    # ... and with no place in the text, the handle decides
    assert (
        classify({"id": "1", "text": "@lucknowpolice mera phone chori ho gaya"}, {"location": "Agra"}).district_code
        == 162
    )
    assert triage("@Uppolice theft in Kanpur", location="Agra").district_code == 157
    place = {"id": "p", "full_name": "Meerut, India"}
    assert triage("@Uppolice bike stolen", location="Agra", place=place).district_code == 169
    assert triage("@Uppolice bike stolen", location="Agra, India").district_code == 118
    unknown = triage("@Uppolice bike stolen", location="India")
    assert unknown.district_code is None and unknown.district is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # two district handles: the place in the text decides, not the first handle
        ("@lucknowpolice @barabankipol Zaidpur me chori ho gayi kal raat", 129),
        # a tehsil tagged with its neighbour's handle
        ("@kanpurnagarpol Shuklaganj me pul ke paas bike chori", 186),
        # a handle plus a place whose name sounds like another district: the place routes
        ("@ghaziabadpol Pilkhuwa me godam se saman chori", 661),
        # a place met only as a road or a home does not outweigh the handle
        ("@agrapolice Lucknow me rehta hu, yaha Sikandra me phone chori ho gaya", 118),
    ],
)
def test_the_place_in_the_text_beats_tagged_handles(text, code):
    assert triage(text).district_code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("@Uppolice chori ho gayi, district Kaushambi", 158),  # "district X" routes even a never-alone name
        ("@Uppolice chori ho gayi, Fatehpur", 142),  # a district's own name, also a Barabanki town
        ("@Uppolice mobile chheen liya. Mau", 168),  # an ordinary word written as a name, signed at the end
        ("@Uppolice hamari basti me roz chori hoti hai", None),  # ... and not written as a name
        ("@Uppolice Truck overturned on Agra-Lucknow expressway near Etawah, people injured", 139),  # road name
        ("@Uppolice Lucknow me rehta hu, par Kanpur station pe mera bag chori ho gaya", 157),  # residence
        ("@Uppolice Train me saman chori, Lucknow Mail, Moradabad ke paas", 171),  # a train named after a city
        ("@ghaziabadpolice mera phone chori ho gaya", 145),  # a district account we do not watch
        ("@sspbareilly mera phone chori ho gaya", 130),
        ("@prayagraj_pol mera phone chori ho gaya", 120),
        ("@dmlucknow mera phone chori ho gaya", 162),
        ("@Uppolice gaon Rampur thana Barabanki me bhains chori", 129),  # village names repeat
    ],
)
def test_district_evidence_is_weighed_in_context(text, code):
    assert triage(text).district_code == code


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("my 7 year old son has not come back from the park", "P1"),  # a child
        ("My father aged 72 left for a walk and has not returned", "P2"),  # an adult
        ("mera bhai 23 saal ka kal se ghar nahi aaya", "P2"),
        ("My phone was stolen from my bag at the bus stand yesterday", "P2"),  # theft: no danger to life
        ("Wrong side driving causes accidents here every day", "P3"),  # a standing pattern
        ("ladai abhi bhi chal rahi hai, 112 pe call kiya koi nahi aaya", "P1"),  # violence now
    ],
)
def test_priority_follows_danger_now(text, priority):
    assert triage("@Uppolice " + text).priority == priority


def test_firing_is_not_fire_and_fire_is_not_firing():
    assert triage("@Uppolice Fire in our building, people trapped on the third floor").category == "emergency"
    assert triage("@Uppolice firing ho rahi hai bazaar me").category == "violent_crime"


def test_texting_shorthand_is_understood():
    result = triage("@Uppolice meri 8 saal ki bhatiji school se ghr ni aayi, plz help")
    assert (result.category, result.priority) == ("missing_person", "P1")


@pytest.mark.parametrize(
    ("text", "category", "priority", "code"),
    [
        ("jaldee aaiye, goliyaan chal rahee hain mohalle me, Bahraich", "violent_crime", "P1", 125),
        ("mera 6 sal ka beta laapata hai subah se, Gonda", "missing_person", "P1", 147),
        ("online thagee ho gayee, 15 hajaar gaye, Azamgadh", "cyber_fraud", "P2", 123),
        ("aag lagi gharr me, bacchon ko nikaalo, Sitapoor", "emergency", "P1", 183),
    ],
)
def test_romanised_spelling_variants_match(text, category, priority, code):
    result = triage("@Uppolice " + text)
    assert (result.category, result.priority, result.district_code) == (category, priority, code)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("taala tod kar chori hui, zevar aur nakdee le gaye", None),  # zevar (jewellery), not Jewar
        ("Jewar toll plaza ke paas accident, log ghayal hai", 144),  # ... unless written as the name
        ("meri behen ko pati ne ghar se nikaal diya", None),  # pati (husband), not Patti in Pratapgarh
        ("bhot badiya kaam, shukriya", None),
    ],
)
def test_place_names_that_are_also_words_need_to_be_written_as_names(text, code):
    assert triage("@Uppolice " + text).district_code == code


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("My neighbour threatened to kill me over a drain dispute", "P1"),  # danger to life: in doubt, P1
        ("maar dalenge ye log mujhe, help", "P1"),
        ("Hamare chacha ka murder 2 saal pehle hua tha, aaropi khule ghoom rahe hai", "P2"),  # an old case
        ("A local goon is demanding 5000 rupees hafta from every shop in our market since last month", "P2"),
    ],
)
def test_threats_and_english_words_keep_their_meaning(text, priority):
    assert triage("@Uppolice " + text).priority == priority


def test_the_learned_model_catches_an_sos_the_rules_do_not_know():
    # Given a cry for help with no SOS word the rules know
    result = triage("@Uppolice please jaldi koi bhejo, wo log aa gaye hain")
    # Then the model makes it a P1 complaint, and says so
    assert (result.is_complaint, result.priority) == (True, "P1")
    model = next(e for e in result.evidence if e.get("source") == "model")
    assert model["p1"] >= min(default_triager().model.p1_thresholds)


def test_the_model_scores_its_features_and_is_what_the_labelled_data_trains():
    from seva.triage.model import features, softmax

    model = default_triager().model
    found = features(["ghar", "me", "aag", "lagi", "hai"], ["~len_8"])
    assert {"aag lagi", "~len_8", "ghar"} <= found
    ids = [model.vocabulary[f] for f in found if f in model.vocabulary]
    decision = softmax([b + sum(model.columns[i][k] for i in ids) for k, b in enumerate(model.decision.bias)])
    prediction = model.predict(found)
    assert [prediction.noise, prediction.complaint, prediction.p1] == pytest.approx(decision)
    check = subprocess.run(
        [sys.executable, str(ROOT / "infra/tools/train_triage_model.py"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_overlapping_phrases_count_once():
    result = triage("@Uppolice Ek ladka fake ID bana ke meri photos pe gandi baatein likh raha hai")
    assert result.category == "women_safety", result.evidence


@pytest.mark.parametrize(
    "text",
    [
        "bachao! koi ghar me ghus aaya",
        "बचाओ, मुझे मार रहे हैं",
        "HELP firing in our street",
        "my 6 year old daughter is missing",
        "accident, two people injured",
        "fire in the godown, people trapped",
        "he is threatening to commit suicide",
        "my brother was kidnapped from outside our house just now, please help",
    ],
)
def test_sos_is_p1(text):
    result = triage("@Uppolice " + text)
    assert result.is_complaint and result.priority == "P1", result.evidence


def test_please_help_in_a_theft_complaint_is_not_sos():
    result = triage("@Uppolice my phone was stolen at the bus stand yesterday, please help")
    assert (result.category, result.priority) == ("theft", "P2")


@pytest.mark.parametrize(
    "text",
    [
        "Great work UP Police, proud of you",
        "जय हिंद",
        "Good morning sir",
        "vote them out in 2027",
        "win a free iPhone click here",
        "😂😂😂",
        "Thank you for the quick response yesterday",
    ],
)
def test_noise_is_not_a_complaint(text):
    result = triage("@Uppolice " + text)
    assert not result.is_complaint and result.priority is None


def test_language():
    assert triage("@Uppolice मेरी बाइक चोरी हो गई").language == "hi"
    assert triage("@Uppolice sir mera phone chori ho gaya hai").language == "hi-Latn"
    assert triage("@Uppolice my phone was stolen").language == "en"


def test_accuracy_on_the_labelled_set_does_not_regress():
    records = [json.loads(line) for line in (ROOT / "tests/data/labelled_up_tweets.jsonl").read_text().splitlines()]
    assert len(records) >= 200
    figures, _ = evaluate(records)
    assert figures["complaint_vs_noise_accuracy"] >= 0.95
    assert figures["district_accuracy"] >= 0.95
    assert figures["category_accuracy"] >= 0.9
    assert figures["p1_recall"] >= 0.95
    assert figures["p1_precision"] >= 0.85


def test_gazetteer_covers_the_75_lgd_districts_with_hindi_names():
    districts = default_triager().gazetteer.districts
    assert len(districts) == 75
    assert all(d.hindi and d.abbr for d in districts.values())
    assert len({d.abbr for d in districts.values()}) == 75
    with open(shared_file("data", "up_districts_lgd.csv"), encoding="utf-8") as fh:
        assert set(districts) == {int(row["District Code"]) for row in csv.DictReader(fh)}


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=400)
    | st.just("")
    | st.builds(lambda s, n: (s or "x") * n, st.text(max_size=40), st.integers(250, 400)),
    entities=junk,
    author=junk,
    place=junk,
    extra=st.dictionaries(st.sampled_from(["lang", "id", "referenced_tweets", "geo"]), junk, max_size=3),
)
def test_classifier_never_raises(text, entities, author, place, extra):
    # (text of up to ~16 KB: repeated fragments stand in for 10 KB inputs)
    result = classify({"text": text, "entities": entities, **extra}, author, place)
    assert isinstance(result.is_complaint, bool)
    assert result.category in CATEGORIES
    assert result.priority in (None, "P1", "P2", "P3")
    assert (result.priority is None) == (not result.is_complaint)
    assert 0.0 <= result.confidence <= 1.0
    assert result.needs_review == (result.review_reason is not None)
    json.dumps(result.as_dict(), ensure_ascii=False)


@given(tweet=junk, author=junk, place=junk)
@settings(max_examples=200, deadline=None)
def test_classifier_accepts_any_shape(tweet, author, place):
    classify(tweet, author, place)


def test_seva_classify_reads_json_lines_and_reports_bad_lines():
    lines = [
        json.dumps(
            {"tweet": {"id": "1", "text": "@lucknowpolice bachao, firing in Hazratganj"}, "author": {"id": "9"}}
        ),
        "not json",
        json.dumps({"tweet": {"id": "2", "text": "@Uppolice thank you"}}),
    ]
    out = subprocess.run(
        [sys.executable, "-m", "sevalocal.cli", "classify"],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        cwd=Path(ROOT),
        env={"PYTHONPATH": f"{ROOT}/functions:{ROOT}/infra", "PATH": "/usr/bin"},
    )
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert results[0]["district_code"] == 162 and results[0]["priority"] == "P1" and results[0]["is_complaint"]
    assert set(results[0]) == {
        "id",
        "is_complaint",
        "confidence",
        "needs_review",
        "review_reason",
        "district_code",
        "district",
        "category",
        "priority",
        "language",
        "evidence",
    }
    assert "error" in results[1] and results[1]["line"] == 2
    assert out.returncode == 3 and out.stderr.startswith("seva classify: line 2: not JSON (")
    assert len(out.stderr.splitlines()) == 1
    assert results[2]["is_complaint"] is False and results[2]["priority"] is None


@pytest.mark.parametrize(
    "disguised",
    [
        "@Uppolice 𝐁𝐀𝐂𝐇𝐀𝐎 𝐅𝐈𝐑𝐈𝐍𝐆 in Hazratganj",  # mathematical bold
        "@Uppolice ＢＡＣＨＡＯ ＦＩＲＩＮＧ in Hazratganj",  # fullwidth
        "@Uppolice ba\u200bchao fi\u200cring in Hazratganj",  # zero-width space / non-joiner inside words
        "@Uppolice ba\u00adchao fir\u00ading in Haz\u00adratganj",  # soft hyphens
        "@Uppolice \u2068bachao\u2069 firing in \ufeffHazratganj",  # bidi isolates, BOM
    ],
)
def test_sos_in_fancy_unicode_is_read_like_plain_text(disguised):
    # Given an SOS written with compatibility or invisible format characters
    plain = triage("@Uppolice BACHAO FIRING in Hazratganj")
    # When it is triaged
    result = triage(disguised)
    # Then it is read exactly like the plain text
    assert (result.is_complaint, result.priority, result.category, result.district_code) == (
        plain.is_complaint,
        plain.priority,
        plain.category,
        plain.district_code,
    )
    assert result.priority == "P1"


@pytest.mark.parametrize(
    ("urdu", "hindi"),
    [
        ("بچاؤ", "बचाओ"),
        ("پولیس", "पुलिस"),
        ("اغوا", "अगवा"),
        ("چوری", "चोरी"),
        ("لکھنؤ", "लखनऊ"),
        ("عورت", "औरत"),
    ],
)
def test_urdu_and_hindi_spellings_of_a_word_meet_in_one_skeleton(urdu, hindi):
    from seva.triage.text import consonant_skeleton

    assert consonant_skeleton(urdu) == consonant_skeleton(hindi)


def test_similar_urdu_words_keep_apart_in_the_skeleton():
    from seva.triage.text import consonant_skeleton

    # chori (theft) is not chhuri (knife); bachao (save us) is not bachcha (child); likhne (to write) is not
    # Lucknow
    assert consonant_skeleton("چوری") != consonant_skeleton("چھری")
    assert consonant_skeleton("بچاؤ") != consonant_skeleton("बच्चा")
    assert consonant_skeleton("لکھنے") != consonant_skeleton("لکھنؤ")


@pytest.mark.parametrize(
    ("text", "category", "priority", "code"),
    [
        ("@lucknowpolice حضرت گنج میں میرا موبائل چوری ہو گیا، مدد کریں", "theft", "P2", 162),
        ("@Uppolice مجھے بچاؤ، کچھ لوگ گھر میں گھس آئے ہیں، امین آباد لکھنؤ", None, "P1", 162),
    ],
)
def test_urdu_complaints_are_read(text, category, priority, code):
    # Given a complaint in Urdu script (the handed-over triage called every Urdu tweet noise)
    result = classify({"id": "1", "text": text})
    # Then it is a complaint, in Urdu, routed and prioritised
    assert (result.is_complaint, result.language, result.priority, result.district_code) == (
        True,
        "ur",
        priority,
        code,
    )
    assert category is None or result.category == category


@pytest.mark.parametrize(
    "text",
    [
        "Breaking: 2 shot dead in Meerut market firing, police on spot https://t.co/abc123 @meerutpolice",
        "Pushpa 2 ka climax fight 🔥🔥 bhai ne sabko maar dala 😂 @Uppolice",
        "RIP 🙏 heartfelt condolences to the family of the constable killed in the highway accident @etawahpolice",
        "Thank you @noidapolice for finding my stolen phone and returning it, great work",
    ],
)
def test_violent_words_outside_a_complaint_are_noise_but_go_to_review(text):
    # Given news, film talk, a condolence, thanks: violent or crime words, no complaint
    result = classify({"id": "1", "text": text})
    # Then it is noise, never P1 (no control-room SMS, no SOS topic)
    assert (result.is_complaint, result.priority) == (False, None)
    # ... and when a P1 word fired, a person reviews it rather than it being dropped silently
    if result.review_reason is not None:
        assert result.needs_review and "P1 signal" in result.review_reason


@pytest.mark.parametrize(
    "text",
    [
        "help fast plz @lkopolice_cp",
        "sir jaldi @kanpurnagar_cp",
    ],
)
def test_very_short_sos_is_p1(text):
    result = classify({"id": "1", "text": text})
    assert (result.is_complaint, result.priority) == (True, "P1")


def test_sarcastic_thanks_around_an_ignored_crime_is_a_complaint():
    text = "Thanks UP police 👏 meri bike chori ki FIR 15 din se pending hai, wah kya speed hai @agrapolice"
    result = classify({"id": "1", "text": text})
    assert (result.is_complaint, result.category) == (True, "theft")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("@gondapolice ek police wala aur kuch log mere ghar me aag laga rahe hai abhi, bachao", "emergency"),
        ("@azamgarhpolice thane me mere bhai ko raat bhar band karke police walo ne peeta", "police_conduct"),
        ("@lucknowpolice online shikayat kar raha hu, kal raat Aliganj se meri bike chori ho gayi", "theft"),
    ],
)
def test_one_word_does_not_take_the_category_over(text, category):
    assert classify({"id": "1", "text": text}).category == category


def test_past_events_and_old_cases_are_not_p1():
    last_week = "last week someone snatched my chain in Aminabad, FIR ho gayi thi, ab tak kuch nahi hua @lucknowpolice"
    assert classify({"id": "1", "text": last_week}).priority == "P2"
    old_case = classify({"id": "1", "text": "@Uppolice 2019 me mere bhai ka murder hua tha, case ka kya status hai"})
    assert old_case.is_complaint and old_case.priority != "P1"
    # ... the P1 word in an old case still gets a person's look
    assert old_case.needs_review and "murder" in old_case.review_reason


def test_uncertain_results_go_to_review_with_a_reason():
    from seva.triage.classifier import ReviewPolicy

    triager = default_triager()
    # Given a tweet the model cannot place (no complaint words, no noise words)
    result = triager.classify({"id": "1", "text": "@Uppolice they took it"})
    # Then it is low-confidence, and goes to review
    assert result.confidence < triager.review.confidence_below
    assert result.needs_review and result.review_reason.startswith("low confidence")
    # And the threshold is the data file's, in one place
    review = json.loads((ROOT / "infra/data/triage_review.json").read_text())
    assert triager.review == ReviewPolicy(review["confidence_below"], review["p1_probability_above"])


def test_a_non_p1_result_with_a_p1_word_goes_to_review():
    result = classify({"id": "1", "text": "@Uppolice they kidnapped my brother"})
    if result.priority != "P1":
        assert result.needs_review and "kidnap" in result.review_reason
