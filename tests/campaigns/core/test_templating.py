"""Templates: fields, fallbacks, optional parts, the opt-out line — never a blank or a tag."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langganan.campaigns.templating import (
    ERR_UNKNOWN_FIELD,
    ERR_VOUCHER_WITHOUT_OFFER,
    FIELDS,
    fields_used,
    render,
    render_text,
    template_check,
)
from langganan.core.errors import InvalidInput

BODY = "Halo {salutation}! Mau {usual_order} lagi? [[Pakai kode {voucher_code} ya.]]"


def test_fields_are_filled_with_the_customers_values():
    text = render_text(
        BODY, {"salutation": "Kak Rina", "usual_order": "Es Kopi Susu", "voucher_code": "HEMAT5"}
    )
    assert text == "Halo Kak Rina! Mau Es Kopi Susu lagi? Pakai kode HEMAT5 ya."


def test_a_missing_usual_order_falls_back_to_a_phrase_not_a_blank():
    assert (
        render_text(BODY, {"salutation": "Mas Budi"}) == "Halo Mas Budi! Mau menu favoritmu lagi?"
    )


def test_english_fallbacks_are_english():
    assert render_text("Hi {salutation}, your {usual_order}?", {}, "en") == (
        "Hi there, your your favourite?"
    )


def test_an_optional_part_is_dropped_when_its_field_has_no_value():
    assert "kode" not in render_text(BODY, {"salutation": "Kak"})


def test_a_missing_first_name_leaves_no_stray_space_before_punctuation():
    assert render_text("Halo {greeting} {name}!", {"greeting": "Bu"}) == "Halo Bu!"


def test_unknown_fields_are_refused_when_the_template_is_checked():
    with pytest.raises(InvalidInput) as err:
        template_check("Halo {nmae}")
    assert err.value.message.startswith(ERR_UNKNOWN_FIELD.split("{")[0])
    assert "{nmae}" in err.value.message


def test_a_voucher_code_outside_an_optional_part_needs_an_offer():
    template_check("Kode: {voucher_code}", has_voucher=True)
    template_check("[[Kode: {voucher_code}]]", has_voucher=False)
    with pytest.raises(InvalidInput) as err:
        template_check("Kode: {voucher_code}", has_voucher=False)
    assert err.value.message == ERR_VOUCHER_WITHOUT_OFFER


def test_unbalanced_brackets_are_refused():
    for text in ("Halo {salutation", "Halo [[{name}"):
        with pytest.raises(InvalidInput):
            template_check(text)


def test_double_braces_write_literal_braces():
    assert render_text("Pakai {{kode}} {salutation}", {"salutation": "Kak"}) == "Pakai {kode} Kak"


def test_the_opt_out_line_is_added_when_the_template_does_not_place_it():
    rendered = render(subject="", body="Halo {salutation}", values={"merchant": "Warung Sri"})
    assert rendered.body.endswith("Balas BERHENTI untuk berhenti menerima pesan dari Warung Sri.")
    placed = render(
        subject="", body="{opt_out}\nHalo", values={"merchant": "X"}, opt_out_url="https://x/o/1"
    )
    assert placed.body.startswith("Balas BERHENTI")
    assert "https://x/o/1" in placed.body and placed.body.endswith("Halo")


def test_whatsapp_parameters_follow_the_bodys_fields_in_order():
    rendered = render(
        subject="",
        body="{salutation}, {usual_order} {salutation}",
        values={"salutation": "Kak Ana"},
    )
    assert rendered.params == ["Kak Ana", "menu favoritmu"]
    assert fields_used("{a}{b}{a}") == ["a", "b"]


_ALL_FIELDS = " ".join("{" + name + "}" for name in FIELDS) + " [[{voucher_code}]]"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(sorted(FIELDS)),
        st.one_of(
            st.none(),
            st.just(""),
            st.just("  "),
            st.text(alphabet="abc XYZ,.!", min_size=1, max_size=10),
        ),
    ),
    st.sampled_from(["id", "en"]),
)
def test_no_combination_of_values_renders_a_tag_or_a_double_space(values, language):
    clean = {k: v for k, v in values.items() if v is None or "{" not in v and "[" not in v}
    out = render_text("Halo " + _ALL_FIELDS + "!", clean, language)
    assert "{" not in out and "[[" not in out
    assert "  " not in out
