"""Standard Webhooks signatures, checked against the spec's published example and the reference library."""

from datetime import UTC, datetime

from standardwebhooks import Webhook

from webhooks.signing import secret_generate, signature, signed_headers

# The example of the Standard Webhooks specification and of Svix's libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_specification_example():
    # when
    result = signature(secret=SPEC_SECRET, message_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY)

    # then
    assert result == SPEC_SIGNATURE


def test_signature_matches_the_reference_library_for_a_generated_secret():
    # given
    secret = secret_generate()
    timestamp = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    # when
    ours = signature(secret=secret, message_id="evt_1", timestamp=int(timestamp.timestamp()), body=b'{"a":"\xc3\xa9"}')

    # then
    assert secret.startswith("whsec_")
    assert len(secret) == 50
    assert ours == Webhook(secret).sign(msg_id="evt_1", timestamp=timestamp, data='{"a":"é"}')


def test_headers_carry_one_signature_per_secret_separated_by_a_space():
    # when
    headers = signed_headers(
        secrets=[SPEC_SECRET, SPEC_SECRET], message_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY
    )

    # then
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": f"{SPEC_SIGNATURE} {SPEC_SIGNATURE}",
    }
