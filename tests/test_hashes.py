"""peep's base64 form and pip's hex form, and strict validation."""

import base64
import hashlib

import pytest

from peep_hook.core.hashes import (
    EMPTY_SHA256_HEX,
    MalformedHash,
    hex_to_peep,
    is_peep_hash,
    peep_to_hex,
    sha256_of_file,
)

# From peep's README: the hash of Flask-0.9.tar.gz.
FLASK_PEEP = "L9XU_-gfdi3So-WEctaQoNu6N2Z3ZQYAOu4-16qor-8"


def test_round_trip_between_peep_and_hex():
    hex_digest = peep_to_hex(FLASK_PEEP)
    assert len(hex_digest) == 64
    assert hex_to_peep(hex_digest) == FLASK_PEEP


def test_peep_form_is_unpadded_urlsafe_base64_of_the_digest(tmp_path):
    path = tmp_path / "a.whl"
    path.write_bytes(b"archive bytes")
    digest = hashlib.sha256(b"archive bytes").digest()
    assert hex_to_peep(sha256_of_file(str(path))) == (
        base64.urlsafe_b64encode(digest).decode().rstrip("=")
    )


def test_empty_file_hash():
    assert EMPTY_SHA256_HEX.startswith("e3b0c442")


@pytest.mark.parametrize(
    "value, why",
    [
        (FLASK_PEEP[:-1], "42 characters"),
        (FLASK_PEEP + "A", "44 characters"),
        (FLASK_PEEP[:-1] + "9", "last character"),  # low bits not zero
        (FLASK_PEEP[:10] + "+" + FLASK_PEEP[11:], "outside URL-safe base64"),
        (FLASK_PEEP[:10] + "=" + FLASK_PEEP[11:], "outside URL-safe base64"),
        (FLASK_PEEP + "=", "44 characters"),
        ("", "0 characters"),
        ("a" * 64, "hex digest"),
    ],
)
def test_malformed_values_are_rejected_with_a_reason(value, why):
    with pytest.raises(MalformedHash, match=why):
        peep_to_hex(value)
    assert not is_peep_hash(value)


def test_decoder_leniency_cannot_sneak_through():
    # base64 decoding would skip the '!' and decode the rest; validation refuses first.
    sneaky = "!" + FLASK_PEEP[1:]
    with pytest.raises(MalformedHash):
        peep_to_hex(sneaky)


@pytest.mark.parametrize("strict_decoder", [True, False])
def test_both_decoding_paths_accept_and_refuse_the_same(monkeypatch, strict_decoder):
    # Python 3.11+ decodes strictly; older Pythons take the round-trip path.
    from peep_hook.core import hashes

    if strict_decoder and not hashes.STRICT_BASE64:
        strict_decoder = False  # this Python has no strict decoder: test the other path
    monkeypatch.setattr(hashes, "STRICT_BASE64", strict_decoder)
    assert hex_to_peep(peep_to_hex(FLASK_PEEP)) == FLASK_PEEP
    for bad in (FLASK_PEEP[:-1] + "9", FLASK_PEEP[:10] + " " + FLASK_PEEP[11:],
                FLASK_PEEP[:10] + "=" + FLASK_PEEP[11:], FLASK_PEEP[:10] + "+" + FLASK_PEEP[11:],
                FLASK_PEEP[:10] + "/" + FLASK_PEEP[11:], FLASK_PEEP[:10] + "é" + FLASK_PEEP[11:],
                FLASK_PEEP[:10] + "\n" + FLASK_PEEP[11:]):
        with pytest.raises(MalformedHash):
            peep_to_hex(bad)
