"""``POST /api/v1/complaints`` and ``POST /api/v1/feedback``: the POS's API key, idempotency as
``POST /transactions``, problem+json errors, one answer per sale, tenant isolation, and both in
the OpenAPI document."""

from __future__ import annotations

import uuid

import pytest

from langganan.care.models import Complaint, Feedback
from langganan.loyalty.models import CheckoutRecord
from tests.api.conftest import Shop, assert_problem, make_shop
from tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pos(db) -> Shop:
    """A café with a member and an API key of its outlet (as in tests/api)."""
    return make_shop()


@pytest.fixture
def rival(db) -> Shop:
    """Another merchant, with its own customer and key."""
    return make_shop()


def _complaint_body(**extra):
    return {"text": "Kopinya dingin", "category": "taste", **extra}


def test_a_pos_records_a_complaint_about_a_customer(pos):
    response = pos.api.post(
        "/complaints",
        _complaint_body(customer_id=pos.customer.pk, channel="in_person", severity="high"),
        idempotency_key="c-1",
    )
    assert response.status_code == 201, response.content
    assert response["Idempotent-Replayed"] == "false"
    body = response.json()
    complaint = Complaint.objects.get(pk=body["id"])
    assert complaint.merchant == pos.merchant and complaint.customer == pos.customer
    assert complaint.outlet == pos.outlet and complaint.severity == "high"
    assert body["status"] == "new" and body["category"] == "taste"
    assert body["category_name"] == "Rasa / kualitas" and body["outlet"] == pos.outlet.code


def test_the_same_key_replays_and_a_different_body_with_it_is_a_422(pos):
    first = pos.api.post("/complaints", _complaint_body(), idempotency_key="c-2")
    again = pos.api.post("/complaints", _complaint_body(), idempotency_key="c-2")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Complaint.objects.count() == 1
    changed = pos.api.post("/complaints", _complaint_body(text="Lain"), idempotency_key="c-2")
    assert_problem(changed, 422, "idempotency_key_reused")
    assert_problem(pos.api.post("/complaints", _complaint_body()), 400, "idempotency_key_missing")


def test_an_unknown_category_is_a_422_naming_the_known_ones_and_nothing_is_recorded(pos):
    response = pos.api.post(
        "/complaints", _complaint_body(category="parkir"), idempotency_key="c-3"
    )
    body = assert_problem(response, 422, "unknown_category")
    assert "taste" in body["detail"] and body["errors"][0]["field"] == "category"
    assert Complaint.objects.count() == 0
    assert not CheckoutRecord.objects.filter(operation="complaint").exists()
    # the same key can be sent again once the category is fixed
    fixed = pos.api.post(
        "/complaints", _complaint_body(category="Waktu tunggu"), idempotency_key="c-3"
    )
    assert fixed.status_code == 201 and fixed.json()["category"] == "waiting"


def test_an_unknown_channel_is_a_validation_problem(pos):
    response = pos.api.post("/complaints", _complaint_body(channel="pigeon"), idempotency_key="c-4")
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["field"] == "channel"


def test_another_merchants_customer_or_sale_is_a_404(pos, rival):
    for extra in ({"customer_id": rival.customer.pk}, {"transaction_id": _sale(rival).pk}):
        response = pos.api.post(
            "/complaints", _complaint_body(**extra), idempotency_key=str(uuid.uuid4())
        )
        assert_problem(response, 404, "not_found")
    feedback = pos.api.post(
        "/feedback", {"transaction_id": _sale(rival).pk, "rating": 5}, idempotency_key="f-x"
    )
    assert_problem(feedback, 404, "not_found")
    assert Complaint.objects.count() == 0 and Feedback.objects.count() == 0


def _sale(pos):
    return TransactionFactory(merchant=pos.merchant, outlet=pos.outlet, customer=pos.customer)


def test_feedback_is_one_per_sale_and_a_second_is_a_409_naming_the_first(pos):
    sale = _sale(pos)
    body = {"transaction_id": sale.pk, "rating": 4, "nps": 9, "suggestion": "Tambah colokan"}
    first = pos.api.post("/feedback", body, idempotency_key="f-1")
    assert first.status_code == 201, first.content
    answer = first.json()
    assert answer["rating"] == 4 and answer["customer_id"] == pos.customer.pk
    assert answer["complaint_id"] is None
    replay = pos.api.post("/feedback", body, idempotency_key="f-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    second = pos.api.post("/feedback", {**body, "rating": 1}, idempotency_key="f-2")
    problem = assert_problem(second, 409, "feedback_exists")
    assert problem["existing_feedback"]["id"] == answer["id"]
    assert problem["existing_feedback"]["rating"] == 4
    assert Feedback.objects.count() == 1 and Complaint.objects.count() == 0


def test_a_low_rating_through_the_api_opens_a_complaint(pos):
    sale = _sale(pos)
    response = pos.api.post(
        "/feedback",
        {"transaction_id": sale.pk, "rating": 1, "comment": "Lama sekali"},
        idempotency_key="f-3",
    )
    assert response.status_code == 201
    complaint = Complaint.objects.get(pk=response.json()["complaint_id"])
    assert complaint.transaction == sale and complaint.channel == "feedback"


@pytest.mark.parametrize("rating", [0, 6, "5", None])
def test_a_rating_out_of_range_is_a_422(pos, rating):
    response = pos.api.post(
        "/feedback", {"transaction_id": _sale(pos).pk, "rating": rating}, idempotency_key="f-4"
    )
    assert_problem(response, 422, "validation_error")


def test_without_a_key_both_are_401(pos):
    pos.api.key = None
    assert_problem(pos.api.post("/complaints", _complaint_body(), idempotency_key="k"), 401)
    assert_problem(pos.api.post("/feedback", {"transaction_id": 1, "rating": 5}), 401)


def test_both_are_in_the_openapi_document_with_their_key_header_and_problems(pos):
    schema = pos.api.get("/openapi.json").json()
    for path, out in (("/api/v1/complaints", "ComplaintOut"), ("/api/v1/feedback", "FeedbackOut")):
        operation = schema["paths"][path]["post"]
        assert [p["name"] for p in operation["parameters"]] == ["Idempotency-Key"]
        answers = operation["responses"]
        assert answers["201"]["content"]["application/json"]["schema"]["$ref"].endswith(out)
        assert "application/problem+json" in answers["409"]["content"]
        assert "application/problem+json" in answers["422"]["content"]
    problem = schema["components"]["schemas"]["ProblemOut"]["properties"]
    assert "existing_feedback" in problem
