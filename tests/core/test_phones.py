import pytest

from langganan.core.phones import ERR_PHONE_INVALID, format_phone, normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "0812-3456-7890",
        "081234567890",
        "+62 812 3456 7890",
        "62812-3456-7890",
        "812 3456 7890",
        "081234567890.0",
    ],
)
def test_common_ways_of_writing_a_mobile_number_normalise_to_e164(raw):
    assert normalize_phone(raw) == "+6281234567890"


def test_a_jakarta_landline_keeps_its_area_code():
    assert normalize_phone("(021) 555-1234") == "+62215551234"


def test_a_foreign_number_in_international_form_is_kept():
    assert normalize_phone("+65 6123 4567") == "+6561234567"


@pytest.mark.parametrize("raw", ["12", "0812", "hello", "+62 000 0000"])
def test_invalid_numbers_are_refused(raw):
    with pytest.raises(ValueError, match=ERR_PHONE_INVALID):
        normalize_phone(raw)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_phone_is_none(raw):
    assert normalize_phone(raw) is None


def test_format_phone_shows_the_national_form():
    assert format_phone("+6281234567890") == "0812-3456-7890"
