"""Shared ground-truth checks for generated samples and the committed fixtures."""

from __future__ import annotations

from datetime import date

from ledger.registry.idnumber import parse_id_number
from ocr import regions
from ocr.synthetic.people import AS_OF

FIELDS = {
    "id_card_front": {"name", "sex", "ethnicity", "birth_date", "address", "id_number"},
    "id_card_back": {"issuing_authority", "valid_from", "valid_until", "long_term"},
    "household_register_home": {
        "household_type", "head_name", "household_number", "address", "issue_date",
    },
    "household_register_member": {
        "name", "relationship_to_head", "former_name", "sex", "birthplace", "ethnicity",
        "native_place", "birth_date", "other_address", "religion", "id_number", "height",
        "blood_type", "education", "marital_status", "military_service", "employer",
        "occupation", "moved_to_city_info", "moved_to_address_info", "registration_date",
    },
}  # fmt: skip
PROVINCES = {regions.province_of(f"{i:02d}") for i in range(11, 66)} - {None}


def check_truth(truth: dict) -> None:
    """Schema and internal consistency of one ground-truth record."""
    kind = truth["document_type"]
    fields = truth["fields"]
    assert set(fields) == FIELDS[kind]
    assert isinstance(truth["legible"], bool)
    w, h = truth["image_size"]
    assert len(truth["corners"]) == 4
    for x, y in truth["corners"]:
        assert -1 <= x <= w + 1 and -1 <= y <= h + 1
    for box in truth["field_boxes"].values():
        assert 0 <= box[0] < box[2] <= 1.0001 and 0 <= box[1] < box[3] <= 1.0001
    if kind in ("id_card_front", "household_register_member"):
        info = parse_id_number(fields["id_number"], today=AS_OF)
        assert fields["birth_date"] == info.birth_date.isoformat()
        assert fields["sex"] == info.sex
        assert regions.region_name(info.region_code)
    if kind == "id_card_front":
        assert fields["address"].startswith(tuple(PROVINCES))
    if kind == "id_card_back":
        start = date.fromisoformat(fields["valid_from"])
        if fields["long_term"]:
            assert fields["valid_until"] is None
        else:
            assert date.fromisoformat(fields["valid_until"]) > start
    if kind == "household_register_home":
        assert fields["household_type"] in ("家庭户", "集体户")
        date.fromisoformat(fields["issue_date"])
    if kind == "household_register_member":
        date.fromisoformat(fields["registration_date"])
    d = truth["degradations"]
    if not d["clean"]:
        assert 35 <= d["jpeg_quality"] <= 90
        assert abs(d["rotation_deg"]) <= 15
        assert d["background"]
