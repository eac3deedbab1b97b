import csv

import pytest
from seva.registry import load_registry, parse_registry

from tests.conftest import shared_file


def test_bundled_registry_has_state_hq_and_one_handle_per_district():
    registry = load_registry()
    assert registry.get("UPPOLICE").kind == "state"  # lookups ignore letter case
    districts = [h for h in registry.handles if h.kind == "district"]
    assert len(districts) == 75
    assert len({h.district_code for h in districts}) == 75


def test_district_codes_are_the_official_lgd_codes():
    path = shared_file("data", "up_districts_lgd.csv")
    with open(path, encoding="utf-8") as fh:
        official = {int(row["District Code"]) for row in csv.DictReader(fh)}
    ours = {h.district_code for h in load_registry().handles if h.kind == "district"}
    assert ours == official


def test_invalid_usernames_and_duplicates_are_rejected():
    with pytest.raises(ValueError, match="not an X username"):
        parse_registry({"handles": [{"username": "way_too_long_for_x_handles"}]})
    with pytest.raises(ValueError, match="registered twice"):
        parse_registry({"handles": [{"username": "abc"}, {"username": "ABC"}]})
