"""The signature scheme: v1=hex HMAC-SHA256 of "<timestamp>.<raw body>"."""

from __future__ import annotations

import hashlib
import hmac

from langganan.webhooks.signing import webhook_signature, webhook_signature_verify

SECRET = "whsec_test"
BODY = b'{"id":"1","event":"customer.created"}'
NOW = 1_767_225_600


def test_signature_is_the_hex_hmac_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert webhook_signature(secret=SECRET, timestamp=NOW, body=BODY) == f"v1={expected}"


def test_a_correct_signature_within_the_tolerance_verifies():
    signature = webhook_signature(secret=SECRET, timestamp=NOW, body=BODY)

    assert webhook_signature_verify(
        secret=SECRET, timestamp=str(NOW), body=BODY, signature=signature, now=NOW + 299
    )


def test_a_changed_body_wrong_secret_or_version_does_not_verify():
    signature = webhook_signature(secret=SECRET, timestamp=NOW, body=BODY)
    check = {"timestamp": NOW, "now": NOW}

    assert not webhook_signature_verify(
        secret=SECRET, body=BODY + b" ", signature=signature, **check
    )
    assert not webhook_signature_verify(secret="other", body=BODY, signature=signature, **check)
    assert not webhook_signature_verify(
        secret=SECRET, body=BODY, signature=signature.replace("v1=", "v0="), **check
    )
    assert not webhook_signature_verify(secret=SECRET, body=BODY, signature="", **check)


def test_a_signature_older_than_the_tolerance_is_refused_as_a_replay():
    signature = webhook_signature(secret=SECRET, timestamp=NOW, body=BODY)

    assert not webhook_signature_verify(
        secret=SECRET, timestamp=NOW, body=BODY, signature=signature, now=NOW + 301
    )
    assert webhook_signature_verify(
        secret=SECRET,
        timestamp=NOW,
        body=BODY,
        signature=signature,
        now=NOW + 3600,
        tolerance_s=3600,
    )


def test_a_malformed_timestamp_does_not_verify():
    signature = webhook_signature(secret=SECRET, timestamp=NOW, body=BODY)

    assert not webhook_signature_verify(
        secret=SECRET, timestamp="yesterday", body=BODY, signature=signature
    )


def test_one_matching_value_among_several_is_enough_for_secret_rotation():
    old = webhook_signature(secret="whsec_old", timestamp=NOW, body=BODY)
    new = webhook_signature(secret=SECRET, timestamp=NOW, body=BODY)

    assert webhook_signature_verify(
        secret=SECRET, timestamp=NOW, body=BODY, signature=f"{old}, {new}", now=NOW
    )
