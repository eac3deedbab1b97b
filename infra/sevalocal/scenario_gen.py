"""Deterministic scenario generator: realistic tweets to UP police handles (English, Hindi, Hinglish;
complaints, SOS, noise, thread replies, retweets, the handles' own tweets, unrelated mentions).

``python -m sevalocal.scenario_gen --tweets 160 --minutes 10 --out infra/scenarios/default.jsonl``
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sevalocal.fakex import mention_entities, snowflake

BASE_TIME = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
REGISTRY = Path(__file__).resolve().parents[1] / "data" / "handles.json"

COMPLAINTS_EN = [
    "My bike was stolen outside {place} market last night, FIR not registered yet. Please help {h}",
    "{h} Chain snatching near {place} bus stand just now, two men on a bike. Please send patrol",
    "{h} loud DJ after midnight in our colony in {place}, senior citizens cannot sleep. Kindly act",
    "{h} I received a fake KYC call and lost Rs 45,000 from my account. Cyber cell not responding. {place}",
    "{h} Neighbours have encroached on my plot in {place}, they threaten us daily. Please intervene",
    "{h} Traffic jam for 2 hours at {place} crossing, no traffic police present",
    "{h} the SHO at {place} thana refused to write my complaint and misbehaved with my father",
    "{h} how do I apply for police verification for a passport in {place}?",
    "{h} girls are being harassed by eve teasers outside the college gate in {place} every evening",
    "{h} my 70 year old father has been missing since morning from {place}, wearing white kurta",
]
COMPLAINTS_HI = [
    "{h} मेरी मोटरसाइकिल {place} में घर के बाहर से चोरी हो गई, कृपया मदद करें",
    "{h} {place} में रात भर तेज़ आवाज़ में डीजे बज रहा है, कृपया कार्रवाई करें",
    "{h} {place} थाने में मेरी शिकायत दर्ज नहीं की जा रही है",
    "{h} मेरे खाते से ऑनलाइन धोखाधड़ी से 20000 रुपये निकाल लिए गए, {place}",
    "{h} {place} में दबंगों ने मेरी ज़मीन पर कब्ज़ा कर लिया है",
]
COMPLAINTS_HINGLISH = [
    "{h} sir mera phone chori ho gaya {place} market me, FIR nahi likh rahe",
    "{h} {place} me raat ko sharabi log hungama karte hai, kuch kijiye",
    "{h} sir hamare mohalle {place} me roz ladkiyon ko pareshan kiya jata hai",
    "{h} online fraud ho gaya sir, 15000 kat gaye account se, {place} se hu",
]
SOS = [
    "{h} HELP!! firing going on in {place} right now, people injured, send police immediately",
    "{h} बचाओ! {place} में कुछ लोग मेरे भाई को पीट रहे हैं, तुरंत पुलिस भेजें",
    "{h} bachao sir {place} me mere ghar me ghus kar maar rahe hai, jaldi aao",
    "{h} accident on highway near {place}, 3 people badly injured, ambulance and police needed urgently",
    "{h} my 8 year old son is missing since 2 hours from {place} park, please help",
]
NOISE = [
    "Great work {h}! Proud of our police",
    "{h} thank you for the quick response yesterday, very grateful",
    "{h} जय हिंद, उत्तर प्रदेश पुलिस को सलाम",
    "Good morning {h} have a nice day",
    "{h} this government has failed, vote them out in 2027",
    "{h} win free iPhone click here bit.ly/xyz",
    "{h} 😂😂 this meme is too good",
]
REPLIES_SAME = [
    "Still no one has come, it has been 3 hours {h}",
    "{h} update: they have come back again tonight",
    "{h} अभी तक कोई कार्रवाई नहीं हुई",
]
# A citizen's complaint, then their follow-up in its thread that changes it (priority, district, a phone)
ESCALATIONS = [
    (
        "{h} drunk men shout outside our house every night in {place}, please send a patrol some day",
        "{h} he has come back with a knife and is banging on our door, bachao, jaldi aao",
    ),
    (
        "{h} my scooty was stolen from outside my house last night, please help",
        "{h} we live in {place} near the bus stand, call me on 98765 43210",
    ),
    (
        "{h} a man keeps following my sister from her coaching centre, we are worried",
        "{h} he has pulled her into a car right now near {place}, please help fast",
    ),
]
FLOOD = [
    "{h} my phone was stolen in {place} market, FIR please ({n})",
    "{h} loud DJ still going on in {place}, kindly act ({n})",
    "{h} traffic jam again at {place} crossing, no police ({n})",
    "{h} illegal parking blocking our lane in {place} ({n})",
]
FLOOD_SOS = "{h} bachao! they are beating my brother outside our house in {place} right now, send police"
REPLIES_OTHER = [
    "Same thing happened to me last week",
    "Police never helps in such cases",
    "Hope you get help soon",
]
HANDLE_SELF = [
    "Dear citizens, dial 112 in any emergency. #UPPolice",
    "Operation Conviction: 12 accused sentenced this week. #UPPolice",
    "{h} ने सड़क सुरक्षा सप्ताह का शुभारंभ किया",
]
PLACES = {
    118: ["Agra", "Tajganj", "Sikandra"],
    162: ["Lucknow", "Hazratganj", "Aliganj", "Gomti Nagar"],
    187: ["Varanasi", "Lanka", "Godowlia"],
    120: ["Prayagraj", "Civil Lines Prayagraj", "Jhunsi"],
    144: ["Noida", "Sector 62 Noida", "Greater Noida"],
    157: ["Kanpur", "Kakadeo", "Swaroop Nagar"],
    145: ["Ghaziabad", "Indirapuram", "Vaishali"],
    169: ["Meerut", "Sadar Bazar Meerut"],
    148: ["Gorakhpur", "Golghar"],
    130: ["Bareilly", "Civil Lines Bareilly"],
}
FIRST = [
    "Ravi",
    "Pooja",
    "Amit",
    "Neha",
    "Sanjay",
    "Anjali",
    "Rahul",
    "Priya",
    "Vikas",
    "Sunita",
    "Arjun",
    "Kavita",
    "Imran",
    "Fatima",
    "Deepak",
    "Meena",
    "Rohit",
    "Shabnam",
    "Ajay",
    "Rekha",
]
LAST = ["Sharma", "Verma", "Yadav", "Singh", "Khan", "Gupta", "Mishra", "Pandey", "Ansari", "Tiwari"]


def _registry() -> list[dict[str, Any]]:
    return json.loads(REGISTRY.read_text(encoding="utf-8"))["handles"]


def generate(
    tweets: int = 160,
    minutes: float = 10.0,
    seed: int = 2026,
    handles: list[dict[str, Any]] | None = None,
    all_handles: bool = False,
    escalations: int = 0,
    flood: int = 0,
) -> list[dict[str, Any]]:
    """``all_handles``: address tweets to every registered handle (zones, ranges, units too), not only
    district and state handles. ``escalations``: that many threads in which the citizen follows up their
    complaint with news that changes it (now P1, the district named, a phone number). ``flood``: one citizen
    sends that many complaints within a minute (the per-citizen SMS guard's case)."""
    rng = random.Random(seed)
    handles = handles or _registry()
    districts = [h for h in handles if h.get("district_code")]
    state = next(h for h in handles if h["kind"] == "state")
    by_code: dict[int, list[dict[str, Any]]] = {}
    for h in districts:
        by_code.setdefault(h["district_code"], []).append(h)
    citizens = []
    for i in range(max(20, tweets // 3)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        citizen = {
            "id": str(1_500_000_000 + i),
            "username": f"{first.lower()}_{rng.randint(10, 9999)}",
            "name": f"{first} {last}",
        }
        if rng.random() < 0.5:
            citizen["location"] = rng.choice(["Lucknow, India", "Kanpur", "Noida, UP", "India", "वाराणसी"])
        citizens.append(citizen)
    handle_users = {
        h["username"]: {"id": str(900_000_000 + i), "username": h["username"], "name": h["name"]}
        for i, h in enumerate(handles)
    }
    span = minutes * 60
    times = sorted(rng.uniform(0, span) for _ in range(tweets))
    out: list[dict[str, Any]] = []
    open_threads: list[dict[str, Any]] = []

    def case(u: str) -> str:
        r = rng.random()
        return u.upper() if r < 0.08 else u.lower() if r < 0.2 else u

    for n, at in enumerate(times):
        tid = str(snowflake(BASE_TIME + timedelta(seconds=at), n))
        kind = rng.choices(
            ["complaint", "sos", "noise", "reply_same", "reply_other", "retweet", "self", "unrelated"],
            weights=[46, 8, 14, 8, 5, 8, 6, 5],
        )[0]
        code = rng.choice(list(PLACES)) if rng.random() < 0.8 else rng.choice(districts)["district_code"]
        place_names = PLACES.get(code) or [next(h["district"] for h in districts if h["district_code"] == code)]
        district_handle = rng.choice(by_code.get(code) or [state])
        target = district_handle if rng.random() < 0.7 else state
        if all_handles:
            target = rng.choice(handles)
        h = "@" + case(target["username"])
        if rng.random() < 0.2 and target is not state:
            h += " @" + case(state["username"])
        author = rng.choice(citizens)
        tweet: dict[str, Any] = {"id": tid, "lang": "en", "conversation_id": tid}
        place = None
        if kind in ("reply_same", "reply_other") and open_threads:
            parent = rng.choice(open_threads)
            if kind == "reply_same":
                author = parent["author"]
                text = rng.choice(REPLIES_SAME).format(h="@" + parent["handle"])
            else:
                author = rng.choice([c for c in citizens if c["id"] != parent["author"]["id"]])
                text = f"@{parent['author']['username']} @{parent['handle']} " + rng.choice(REPLIES_OTHER)
            tweet.update(
                conversation_id=parent["tweet"]["conversation_id"],
                in_reply_to_user_id=parent["author"]["id"],
                referenced_tweets=[{"type": "replied_to", "id": parent["tweet"]["id"]}],
            )
        elif kind == "retweet" and out:
            original = rng.choice(out)
            text = f"RT @{original['author']['username']}: {original['tweet']['text']}"[:280]
            tweet["referenced_tweets"] = [{"type": "retweeted", "id": original["tweet"]["id"]}]
        elif kind == "self":
            author = handle_users[target["username"]]
            text = rng.choice(HANDLE_SELF).format(h="@" + state["username"])
        elif kind == "unrelated":
            text = rng.choice(
                [
                    "@DelhiPolice please check this",
                    "@MumbaiPolice traffic update?",
                    "Nice weather in Lucknow today",
                ]
            )
        else:
            pool = {"sos": SOS, "noise": NOISE}.get(kind) or rng.choice(
                [COMPLAINTS_EN, COMPLAINTS_EN, COMPLAINTS_HI, COMPLAINTS_HINGLISH]
            )
            text = rng.choice(pool).format(h=h, place=rng.choice(place_names))
            if any("\u0900" <= ch <= "\u097f" for ch in text):
                tweet["lang"] = "hi"
            elif pool is COMPLAINTS_HINGLISH:
                tweet["lang"] = "hi" if rng.random() < 0.5 else "en"
            if rng.random() < 0.1:
                place = {
                    "id": f"p{code}",
                    "full_name": f"{place_names[0]}, India",
                    "name": place_names[0],
                    "country_code": "IN",
                    "place_type": "city",
                }
                tweet["geo"] = {"place_id": place["id"]}
        tweet["text"] = text
        mentions = mention_entities(text)
        if mentions:
            tweet["entities"] = {"mentions": mentions}
        tweet["author_id"] = author["id"]
        record = {"at": round(at, 3), "tweet": tweet, "author": author}
        if place:
            record["place"] = place
        out.append(record)
        if kind in ("complaint", "sos"):
            open_threads.append({"tweet": tweet, "author": author, "handle": target["username"]})
    out += _escalations(rng, escalations, span, citizens, districts, by_code, state, len(out))
    out += _flood(rng, flood, span, districts, len(out) + 2 * escalations)
    out.sort(key=lambda r: r["at"])
    return out


def _tweet(at: float, n: int, text: str, author: dict[str, Any], **extra: Any) -> dict[str, Any]:
    tid = str(snowflake(BASE_TIME + timedelta(seconds=at), n))
    tweet: dict[str, Any] = {"id": tid, "lang": "en", "conversation_id": tid, "text": text, **extra}
    tweet["author_id"] = author["id"]
    if mention_entities(text):
        tweet["entities"] = {"mentions": mention_entities(text)}
    return {"at": round(at, 3), "tweet": tweet, "author": author}


def _escalations(rng, count, span, citizens, districts, by_code, state, n):  # type: ignore[no-untyped-def]
    out = []
    for i in range(count):
        first, follow = ESCALATIONS[i % len(ESCALATIONS)]
        code = rng.choice(list(PLACES))
        handle = state if "{place}" not in first else rng.choice(by_code.get(code) or [state])
        author = dict(rng.choice(citizens), id=str(1_600_000_000 + i))
        at = rng.uniform(0, max(1.0, span - 120))
        parent = _tweet(at, n + 2 * i, first.format(h="@" + handle["username"], place=rng.choice(PLACES[code])), author)
        reply_text = follow.format(h="@" + handle["username"], place=rng.choice(PLACES[code]))
        child = _tweet(
            at + rng.uniform(30, 90),
            n + 2 * i + 1,
            reply_text,
            author,
            conversation_id=parent["tweet"]["id"],
            in_reply_to_user_id=author["id"],
            referenced_tweets=[{"type": "replied_to", "id": parent["tweet"]["id"]}],
        )
        out += [parent, child]
    return out


def _flood(rng, count, span, districts, n):  # type: ignore[no-untyped-def]
    if not count:
        return []
    handle = rng.choice(districts)
    author = {"id": "1700000000", "username": "angry_resident_99", "name": "Angry Resident"}
    start = rng.uniform(0, max(1.0, span - 60))
    places = PLACES.get(handle["district_code"]) or [handle["district"]]
    # the seventh is an SOS: no guard may hold it back
    texts = [FLOOD[i % len(FLOOD)] if i != 6 else FLOOD_SOS for i in range(count)]
    return [
        _tweet(
            start + i * 60 / count,
            n + i,
            text.format(h="@" + handle["username"], place=rng.choice(places), n=i + 1),
            author,
        )
        for i, text in enumerate(texts)
    ]


def _routine_or_sos(text: str, author: dict[str, Any], want_p1: bool) -> bool:
    """Whether triage reads this tweet as a P1 (``want_p1``) or as a routine (P2/P3) complaint: the flood must
    hold no P1 and the SOS must all be P1, so the bench measures lanes, not triage."""
    from seva.triage import default_triager

    result = default_triager().classify({"id": "1", "text": text}, author, None)
    return bool(result.is_complaint) and (result.priority == "P1") == want_p1


def flood_then_sos(
    flood: int = 1500,
    sos: int = 20,
    flood_seconds: float = 60.0,
    gap_seconds: float = 30.0,
    start: float = 5.0,
    seed: int = 2026,
    handles: list[dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A flood of ``flood`` routine complaints (P2/P3 by triage, each from its own citizen, to the district
    handles) published over ``flood_seconds`` from ``start``, and ``sos`` SOS tweets (P1 by triage, each from
    its own citizen) published within 10 s from ``gap_seconds`` after the flood's last tweet. Returns (flood,
    sos): publish both for the flood run, the SOS alone (same times, same ids) for the baseline."""
    rng = random.Random(seed)
    handles = handles or _registry()
    districts = [h for h in handles if h.get("kind") == "district" and h.get("district_code")]
    routine_pool = [*COMPLAINTS_EN, *COMPLAINTS_HI, *COMPLAINTS_HINGLISH, *FLOOD]
    sos_pool = [*SOS, FLOOD_SOS]

    def text_for(pool: list[str], n: int, want_p1: bool) -> tuple[str, dict[str, Any], dict[str, Any]]:
        for _ in range(200):
            handle = rng.choice(districts)
            place = rng.choice(PLACES.get(handle["district_code"]) or [handle["district"]])
            author = {"id": str(1_800_000_000 + n), "username": f"citizen_{n}", "name": f"Citizen {n}"}
            text = rng.choice(pool).format(h="@" + handle["username"], place=place, n=n)
            if _routine_or_sos(text, author, want_p1):
                return text, author, handle
        raise ValueError("no template gives the wanted priority")  # the lexicon changed: fix the templates

    flood_out = []
    for i in range(flood):
        text, author, _ = text_for(routine_pool, i, False)
        record = _tweet(start + flood_seconds * i / max(1, flood), i, text, author)
        if any("\u0900" <= ch <= "\u097f" for ch in text):
            record["tweet"]["lang"] = "hi"
        flood_out.append(record)
    sos_at = start + flood_seconds + gap_seconds
    sos_out = []
    for j in range(sos):
        text, author, _ = text_for(sos_pool, flood + j, True)
        record = _tweet(sos_at + 10.0 * j / max(1, sos), flood + j, text, author)
        if any("\u0900" <= ch <= "\u097f" for ch in text):
            record["tweet"]["lang"] = "hi"
        sos_out.append(record)
    return flood_out, sos_out


def burst(tweets: int = 3000, seconds: float = 60.0, seed: int = 3000) -> list[dict[str, Any]]:
    """A burst: ``tweets`` tweets of the usual mix (complaints, SOS, noise, threads, retweets, the handles' own
    tweets) spread over every registered handle and published within ``seconds`` (a minute: between two
    polls of the old one-minute schedule)."""
    return generate(tweets, seconds / 60.0, seed, all_handles=True)


def write_jsonl(records: list[dict[str, Any]], path: str | Path) -> Path:
    path = Path(path)
    with open(path, "w", encoding="utf-8") as fh:
        for record in sorted(records, key=lambda r: r["at"]):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tweets", type=int, default=160)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--all-handles", action="store_true", help="spread tweets over every registered handle")
    parser.add_argument("--escalations", type=int, default=0, help="threads whose follow-up changes the complaint")
    parser.add_argument("--flood", type=int, default=0, help="one citizen's complaints within a minute")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    records = generate(
        args.tweets,
        args.minutes,
        args.seed,
        all_handles=args.all_handles,
        escalations=args.escalations,
        flood=args.flood,
    )
    with open(args.out, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} tweets to {args.out}")


if __name__ == "__main__":
    main()
