"""The Cloud KMS fake: the keyring model, its crypto, and Cloud KMS's errors with Cloud KMS's text.

Errors are asserted by class (``fakes/kms/exceptions.py``, one per real Cloud KMS error); a message
is compared verbatim only when its class is confirmed (``fakes.errors.text_is_confirmed``), since a
text nobody saw Cloud KMS send is our wording, not Cloud KMS's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import google_crc32c
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fakes.errors import RealError, error_classes, text_is_confirmed
from fakes.kms import FakeKeyManager, KmsBackend
from fakes.kms import exceptions as kms_errors
from fakes.kms.resources import EncryptResponse
from harness.clock import ManualClock
from harness.ports import (
    DecryptionError,
    KeyAlreadyExistsError,
    KeyManager,
    KeyManagerError,
    KeyManagerUnavailableError,
    KeyNotFoundError,
    KeyStateError,
)

LOCATION = "projects/test-project/locations/global"
RING = f"{LOCATION}/keyRings/ring"
KEY = f"{RING}/cryptoKeys/key"
OTHER_KEY = f"{RING}/cryptoKeys/other"
V1, V2 = f"{KEY}/cryptoKeyVersions/1", f"{KEY}/cryptoKeyVersions/2"
INVALID = "Decryption failed: the ciphertext is invalid."
WRONG_KEY = "Decryption failed: verify that 'name' refers to the correct CryptoKey."


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def kms(clock: ManualClock) -> KmsBackend:
    backend = KmsBackend(clock, seed=7)
    backend.create_key_ring(LOCATION, "ring")
    backend.create_crypto_key(RING, "key")
    return backend


def encrypt(kms: KmsBackend, plaintext: bytes = b"secret", aad: bytes = b"") -> bytes:
    return kms.encrypt(KEY, plaintext, aad)["ciphertext"]


def assert_error(exc: KeyManagerError, status: int, code: str, message: str | None = None) -> None:
    assert (exc.status, exc.code) == (status, code)
    if message is not None:
        # Only a confirmed Cloud KMS text (or the key manager's own, which is no Cloud KMS error).
        assert not isinstance(exc, RealError) or text_is_confirmed(exc)
        assert exc.message == message


def test_every_kms_error_class_states_its_provenance() -> None:
    classes = list(error_classes(kms_errors))
    assert len(classes) >= 20
    for cls in classes:
        assert issubclass(cls, KeyManagerError), cls
        assert cls.confirmed or cls.searched, cls
        assert cls.template, cls


# --------------------------------------------------------------------------------- round trips
@given(plaintext=st.binary(max_size=2048), aad=st.binary(max_size=256))
def test_key_manager_round_trips_any_bytes(plaintext: bytes, aad: bytes) -> None:
    keys = FakeKeyManager.create(ManualClock(), seed=1)
    result = keys.encrypt(plaintext, aad=aad)
    assert result.key_version == keys.primary_version()
    assert keys.decrypt(result.ciphertext, aad=aad) == plaintext


def test_round_trip_without_aad_and_the_convenience_constructor() -> None:
    keys = FakeKeyManager.create(ManualClock())
    assert isinstance(keys, KeyManager)
    assert (
        keys.key_name == "projects/cloudact-local/locations/global/keyRings/cloudact/cryptoKeys/org-secrets"
    )
    assert keys.primary_version() == keys.key_name + "/cryptoKeyVersions/1"
    assert keys.decrypt(keys.encrypt(b"sk-live-123").ciphertext) == b"sk-live-123"


def test_wrong_aad_fails(kms: KmsBackend) -> None:
    ciphertext = encrypt(kms, aad=b"acme_corp")
    for aad in (b"other_org", b""):
        with pytest.raises(kms_errors.CiphertextInvalid) as info:
            kms.decrypt(KEY, ciphertext, aad)
        # Which decryption text Cloud KMS gives for a wrong AAD is not confirmed: class only.
        assert_error(info.value, 400, "INVALID_ARGUMENT")


def test_ciphertext_of_another_key_fails_with_the_wrong_key_message(kms: KmsBackend) -> None:
    kms.create_crypto_key(RING, "other")
    ciphertext = kms.encrypt(OTHER_KEY, b"secret")["ciphertext"]
    with pytest.raises(kms_errors.WrongCryptoKey) as info:
        kms.decrypt(KEY, ciphertext)
    assert_error(info.value, 400, "INVALID_ARGUMENT", WRONG_KEY)
    assert kms.decrypt(OTHER_KEY, ciphertext)["plaintext"] == b"secret"


@given(data=st.data())
def test_any_flipped_byte_fails_to_decrypt(data: st.DataObject) -> None:
    kms = KmsBackend(ManualClock(), seed=3)
    kms.create_key_ring(LOCATION, "ring")
    kms.create_crypto_key(RING, "key")
    ciphertext = bytearray(encrypt(kms, b"a secret worth keeping", b"aad"))
    position = data.draw(st.integers(0, len(ciphertext) - 1))
    ciphertext[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(DecryptionError) as info:
        kms.decrypt(KEY, bytes(ciphertext), b"aad")
    assert isinstance(info.value, kms_errors.CiphertextInvalid | kms_errors.WrongCryptoKey)
    assert info.value.message in (INVALID, WRONG_KEY)


def test_tampered_body_and_garbage_give_the_invalid_ciphertext_message(kms: KmsBackend) -> None:
    ciphertext = bytearray(encrypt(kms))
    ciphertext[-1] ^= 0x01
    for bad in (bytes(ciphertext), b"InvalidKMSData", b""):
        with pytest.raises(kms_errors.CiphertextInvalid) as info:
            kms.decrypt(KEY, bad)
        assert_error(info.value, 400, "INVALID_ARGUMENT", INVALID)


# ----------------------------------------------------------------------------------- rotation
def test_rotation_makes_a_new_primary_and_old_ciphertexts_still_decrypt(kms: KmsBackend) -> None:
    old = kms.encrypt(KEY, b"old")
    assert old["name"] == V1
    version = kms.rotate(KEY)
    assert version["name"] == V2 and version["state"] == "ENABLED"
    assert kms.get_crypto_key(KEY)["primary"]["name"] == V2

    new = kms.encrypt(KEY, b"new")
    assert new["name"] == V2
    old_plain = kms.decrypt(KEY, old["ciphertext"])
    assert (old_plain["plaintext"], old_plain["usedPrimary"]) == (b"old", False)
    new_plain = kms.decrypt(KEY, new["ciphertext"])
    assert (new_plain["plaintext"], new_plain["usedPrimary"]) == (b"new", True)


def test_a_new_version_is_not_primary_until_made_so(kms: KmsBackend) -> None:
    assert kms.create_crypto_key_version(KEY)["name"] == V2
    assert kms.encrypt(KEY, b"x")["name"] == V1
    assert kms.update_primary_version(KEY, "2")["primary"]["name"] == V2
    assert kms.encrypt(KEY, b"x")["name"] == V2


def test_encrypt_accepts_a_version_name_but_decrypt_does_not(kms: KmsBackend) -> None:
    kms.rotate(KEY)
    response = kms.encrypt(V1, b"pinned")
    assert response["name"] == V1
    assert kms.decrypt(KEY, response["ciphertext"])["plaintext"] == b"pinned"
    with pytest.raises(KeyManagerError) as info:
        kms.decrypt(V1, response["ciphertext"])
    assert_error(info.value, 400, "INVALID_ARGUMENT", f"{V1} is not a valid resource type for this request.")


# ------------------------------------------------------------------------------ version states
def test_disabled_version_cannot_decrypt_until_re_enabled(kms: KmsBackend) -> None:
    ciphertext = encrypt(kms)
    assert kms.update_version_state(V1, "DISABLED")["state"] == "DISABLED"
    for call in (lambda: kms.decrypt(KEY, ciphertext), lambda: kms.encrypt(KEY, b"x")):
        with pytest.raises(KeyStateError) as info:
            call()
        assert_error(
            info.value, 400, "FAILED_PRECONDITION", f"{V1} is not enabled, current state is: DISABLED."
        )
    kms.update_version_state(V1, "ENABLED")
    assert kms.decrypt(KEY, ciphertext)["plaintext"] == b"secret"


def test_destroy_schedules_for_30_days_and_restore_brings_it_back_disabled(
    kms: KmsBackend, clock: ManualClock
) -> None:
    ciphertext = encrypt(kms)
    scheduled = kms.destroy_version(V1)
    assert scheduled["state"] == "DESTROY_SCHEDULED"
    assert scheduled["destroyTime"] == clock.now() + timedelta(days=30)
    with pytest.raises(KeyStateError) as info:
        kms.decrypt(KEY, ciphertext)
    assert info.value.message == f"{V1} is not enabled, current state is: DESTROY_SCHEDULED."

    clock.advance(timedelta(days=29, hours=23))
    restored = kms.restore_version(V1)
    assert restored["state"] == "DISABLED" and "destroyTime" not in restored
    kms.update_version_state(V1, "ENABLED")
    assert kms.decrypt(KEY, ciphertext)["plaintext"] == b"secret"


def test_after_the_scheduled_time_the_version_is_destroyed_for_good(
    kms: KmsBackend, clock: ManualClock
) -> None:
    ciphertext = encrypt(kms)
    destroy_time = kms.destroy_version(V1)["destroyTime"]
    clock.advance(timedelta(days=30))
    version = kms.get_crypto_key_version(V1)
    assert version["state"] == "DESTROYED" and version["destroyEventTime"] == destroy_time

    with pytest.raises(kms_errors.VersionNotScheduledForDestruction) as info:
        kms.restore_version(V1)
    assert_error(info.value, 400, "FAILED_PRECONDITION")  # restore's text is not confirmed
    with pytest.raises(kms_errors.VersionStatePrecondition):
        kms.update_version_state(V1, "ENABLED")
    with pytest.raises(KeyStateError) as info:
        kms.decrypt(KEY, ciphertext)
    assert info.value.message == f"{V1} is not enabled, current state is: DESTROYED."


def test_the_destroy_scheduled_duration_is_per_key(kms: KmsBackend, clock: ManualClock) -> None:
    kms.create_crypto_key(RING, "other", destroy_scheduled_duration=timedelta(hours=24))
    assert kms.get_crypto_key(OTHER_KEY)["destroyScheduledDuration"] == timedelta(hours=24)
    kms.destroy_version(f"{OTHER_KEY}/cryptoKeyVersions/1")
    clock.advance(timedelta(hours=24))
    assert kms.list_crypto_key_versions(OTHER_KEY)[0]["state"] == "DESTROYED"


def test_destroying_twice_is_refused(kms: KmsBackend) -> None:
    kms.destroy_version(V1)
    with pytest.raises(KeyStateError) as info:
        kms.destroy_version(V1)
    assert info.value.message == (
        f"The request cannot be fulfilled. Resource {V1} has value DESTROY_SCHEDULED "
        "in field crypto_key_version.state."
    )


@pytest.mark.parametrize("state", ["DESTROYED", "DESTROY_SCHEDULED", "ENABLE", ""])
def test_patch_only_moves_between_enabled_and_disabled(kms: KmsBackend, state: str) -> None:
    with pytest.raises(kms_errors.InvalidVersionState) as info:
        kms.update_version_state(V1, state)
    assert_error(info.value, 400, "INVALID_ARGUMENT")
    assert kms.get_crypto_key_version(V1)["state"] == "ENABLED"


def test_a_disabled_version_can_be_made_primary_but_cannot_encrypt(kms: KmsBackend) -> None:
    # Cloud KMS's key-states page: "a version which is not enabled can be made the primary version".
    old = encrypt(kms)
    kms.create_crypto_key_version(KEY)
    kms.update_version_state(V2, "DISABLED")
    assert kms.update_primary_version(KEY, "2")["primary"]["state"] == "DISABLED"
    with pytest.raises(KeyStateError) as info:
        kms.encrypt(KEY, b"x")
    assert info.value.message == f"{V2} is not enabled, current state is: DISABLED."
    assert kms.decrypt(KEY, old)["plaintext"] == b"secret"


def test_a_key_without_versions_cannot_encrypt_until_it_has_a_primary(clock: ManualClock) -> None:
    kms = KmsBackend(clock)
    kms.create_key_ring(LOCATION, "ring")
    assert "primary" not in kms.create_crypto_key(RING, "key", skip_initial_version=True)
    assert kms.list_crypto_key_versions(KEY) == []
    keys = FakeKeyManager(kms, KEY)
    for call in (lambda: keys.encrypt(b"x"), keys.primary_version):
        with pytest.raises(kms_errors.NoPrimaryVersion):
            call()
    kms.create_crypto_key_version(KEY)
    kms.update_primary_version(KEY, "1")
    assert keys.decrypt(keys.encrypt(b"x").ciphertext) == b"x"


# ---------------------------------------------------------------------------------------- CRC32C
def test_responses_carry_crc32c_values_as_google_crc32c_computes_them(kms: KmsBackend) -> None:
    response = kms.encrypt(
        KEY,
        b"hello",
        b"aad",
        plaintext_crc32c=google_crc32c.value(b"hello"),
        aad_crc32c=google_crc32c.value(b"aad"),
    )
    assert google_crc32c.value(b"hello") == 2591144780
    assert response["ciphertextCrc32c"] == google_crc32c.value(response["ciphertext"])
    assert response["verifiedPlaintextCrc32c"] and response["verifiedAdditionalAuthenticatedDataCrc32c"]
    assert response["protectionLevel"] == "SOFTWARE"

    unchecked = kms.encrypt(KEY, b"hello")
    assert (
        not unchecked["verifiedPlaintextCrc32c"]
        and not unchecked["verifiedAdditionalAuthenticatedDataCrc32c"]
    )

    plain = kms.decrypt(KEY, response["ciphertext"], b"aad", ciphertext_crc32c=response["ciphertextCrc32c"])
    assert plain["plaintextCrc32c"] == 2591144780
    assert plain["protectionLevel"] == "SOFTWARE"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda kms: kms.encrypt(KEY, b"hello", plaintext_crc32c=1), "plaintext"),
        (lambda kms: kms.encrypt(KEY, b"hello", b"aad", aad_crc32c=1), "additional_authenticated_data"),
        (lambda kms: kms.decrypt(KEY, encrypt(kms), ciphertext_crc32c=1), "ciphertext"),
        (lambda kms: kms.decrypt(KEY, encrypt(kms), aad_crc32c=1), "additional_authenticated_data"),
    ],
)
def test_a_wrong_request_checksum_is_refused(
    kms: KmsBackend, call: Callable[[KmsBackend], object], field: str
) -> None:
    with pytest.raises(KeyManagerError) as info:
        call(kms)
    assert_error(
        info.value,
        400,
        "INVALID_ARGUMENT",
        f"The checksum in field {field}_crc32c did not match the data in field {field}.",
    )


class _CorruptingBackend(KmsBackend):
    """Flips a response byte after the checksum was taken, as a broken network would."""

    def encrypt(self, *args: Any, **kwargs: Any) -> EncryptResponse:
        response = super().encrypt(*args, **kwargs)
        response["ciphertext"] = bytes([response["ciphertext"][0] ^ 1]) + response["ciphertext"][1:]
        return response


def test_key_manager_treats_a_corrupted_response_as_a_retryable_failure(clock: ManualClock) -> None:
    kms = _CorruptingBackend(clock)
    kms.create_key_ring(LOCATION, "ring")
    kms.create_crypto_key(RING, "key")
    with pytest.raises(KeyManagerUnavailableError) as info:
        FakeKeyManager(kms, KEY).encrypt(b"x")
    assert info.value.retryable
    assert_error(info.value, 503, "DATA_LOSS", "Encrypt: response corrupted in-transit")


# --------------------------------------------------------------------------------- determinism
def _replay(seed: int | None, plaintexts: list[bytes]) -> list[bytes]:
    keys = FakeKeyManager.create(ManualClock(), seed=seed)
    out = [keys.encrypt(p, aad=b"org").ciphertext for p in plaintexts]
    keys.backend.rotate(keys.key_name)
    return [*out, *(keys.encrypt(p).ciphertext for p in plaintexts)]


@given(st.lists(st.binary(max_size=64), min_size=1, max_size=5))
def test_seeded_backends_replay_identical_ciphertexts(plaintexts: list[bytes]) -> None:
    first = _replay(42, plaintexts)
    assert first == _replay(42, plaintexts)
    assert set(first).isdisjoint(_replay(43, plaintexts))
    assert len(set(first)) == len(first)  # one nonce per encryption, even for equal plaintexts


def test_unseeded_backends_are_random() -> None:
    assert set(_replay(None, [b"x"])).isdisjoint(_replay(None, [b"x"]))


def test_reset_forgets_everything_and_a_replay_repeats_the_bytes(kms: KmsBackend) -> None:
    first = encrypt(kms)
    kms.reset()
    with pytest.raises(KeyNotFoundError):
        kms.get_key_ring(RING)
    assert kms.list_key_rings(LOCATION) == []
    kms.create_key_ring(LOCATION, "ring")
    kms.create_crypto_key(RING, "key")
    assert encrypt(kms) == first


# ------------------------------------------------------------------------ resources and errors
def test_resources_look_like_the_rest_resources(kms: KmsBackend, clock: ManualClock) -> None:
    kms.create_key_ring(LOCATION, "second")
    kms.create_key_ring("projects/test-project/locations/us-east1", "elsewhere")
    assert [r["name"] for r in kms.list_key_rings(LOCATION)] == [RING, f"{LOCATION}/keyRings/second"]
    assert kms.get_key_ring(RING) == {"name": RING, "createTime": clock.now()}

    key = kms.create_crypto_key(RING, "other", labels={"team": "billing"})
    assert key["name"] == OTHER_KEY and key["purpose"] == "ENCRYPT_DECRYPT"
    assert key["labels"] == {"team": "billing"}
    assert key["versionTemplate"] == {
        "protectionLevel": "SOFTWARE",
        "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
    }
    assert key["primary"]["name"] == f"{OTHER_KEY}/cryptoKeyVersions/1"
    assert [k["name"] for k in kms.list_crypto_keys(RING)] == [KEY, OTHER_KEY]

    kms.rotate(KEY)
    versions = kms.list_crypto_key_versions(KEY)
    assert [v["name"] for v in versions] == [V1, V2]
    assert versions[0]["algorithm"] == "GOOGLE_SYMMETRIC_ENCRYPTION"
    assert versions[0]["protectionLevel"] == "SOFTWARE"


def test_not_found_names_the_first_missing_resource(kms: KmsBackend) -> None:
    missing_ring = f"{LOCATION}/keyRings/nope"
    cases = [
        (lambda: kms.get_key_ring(missing_ring), f"KeyRing {missing_ring} not found."),
        (lambda: kms.get_crypto_key(f"{missing_ring}/cryptoKeys/key"), f"KeyRing {missing_ring} not found."),
        (lambda: kms.create_crypto_key(missing_ring, "key"), f"KeyRing {missing_ring} not found."),
        (
            lambda: kms.encrypt(f"{RING}/cryptoKeys/nope", b"x"),
            f"CryptoKey {RING}/cryptoKeys/nope not found.",
        ),
        (
            lambda: kms.list_crypto_key_versions(f"{RING}/cryptoKeys/nope"),
            f"CryptoKey {RING}/cryptoKeys/nope not found.",
        ),
    ]
    for call, message in cases:
        with pytest.raises(KeyNotFoundError) as info:
            call()
        assert_error(info.value, 404, "NOT_FOUND", message)
    with pytest.raises(kms_errors.CryptoKeyVersionNotFound):
        kms.get_crypto_key_version(f"{KEY}/cryptoKeyVersions/9")
    with pytest.raises(kms_errors.CryptoKeyVersionNotFound):
        kms.update_primary_version(KEY, "9")


def test_duplicates_are_refused(kms: KmsBackend) -> None:
    with pytest.raises(KeyAlreadyExistsError) as info:
        kms.create_key_ring(LOCATION, "ring")
    assert_error(info.value, 409, "ALREADY_EXISTS", f"KeyRing {RING} already exists.")
    with pytest.raises(kms_errors.CryptoKeyAlreadyExists):
        kms.create_crypto_key(RING, "key")


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "x" * 64])
def test_resource_ids_follow_the_documented_pattern(kms: KmsBackend, bad: str) -> None:
    for call in (lambda: kms.create_key_ring(LOCATION, bad), lambda: kms.create_crypto_key(RING, bad)):
        with pytest.raises(kms_errors.InvalidResourceId) as info:
            call()
        assert_error(info.value, 400, "INVALID_ARGUMENT")


def test_a_purpose_the_fake_lacks_is_refused_as_unsupported(kms: KmsBackend) -> None:
    with pytest.raises(kms_errors.UnsupportedPurpose):
        kms.create_crypto_key(RING, "kem", purpose="KEY_ENCAPSULATION")


def test_plaintext_and_aad_are_limited_to_64_kib(kms: KmsBackend) -> None:
    assert kms.decrypt(KEY, encrypt(kms, bytes(65536)))["plaintext"] == bytes(65536)
    with pytest.raises(KeyManagerError) as info:
        kms.encrypt(KEY, bytes(65537))
    assert_error(
        info.value,
        400,
        "INVALID_ARGUMENT",
        "Request field plaintext must have length of at least 0, but not more than 65536. "
        "Provided value had length 65537.",
    )
    for call in (lambda: kms.encrypt(KEY, b"x", bytes(65537)), lambda: kms.decrypt(KEY, b"x", bytes(65537))):
        with pytest.raises(kms_errors.AdditionalDataTooLong) as info:
            call()
        assert_error(info.value, 400, "INVALID_ARGUMENT")


# -------------------------------------------------------------------------------- state machine
class VersionLifecycle(RuleBasedStateMachine):
    """Random lifecycles against a plain model of each version's state and destroy time."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()
        self.kms = KmsBackend(self.clock, seed=5)
        self.kms.create_key_ring(LOCATION, "ring")
        self.kms.create_crypto_key(RING, "key")
        self.states: dict[int, str] = {1: "ENABLED"}
        self.destroy_at: dict[int, datetime] = {}
        self.primary = 1
        self.ciphertexts: list[tuple[int, bytes, bytes]] = []

    def _settle(self) -> None:
        for number, when in list(self.destroy_at.items()):
            if self.states[number] == "DESTROY_SCHEDULED" and self.clock.now() >= when:
                self.states[number] = "DESTROYED"

    def _name(self, number: int) -> str:
        return f"{KEY}/cryptoKeyVersions/{number}"

    def _expect(self, number: int, allowed: tuple[str, ...], call: Callable[[], object]) -> bool:
        """Run ``call``; it must succeed exactly when the version exists in an allowed state."""
        self._settle()
        if number not in self.states:
            with pytest.raises(KeyNotFoundError):
                call()
            return False
        if self.states[number] not in allowed:
            with pytest.raises(KeyStateError):
                call()
            return False
        call()
        return True

    @rule(make_primary=st.booleans())
    def add_version(self, make_primary: bool) -> None:
        created = (self.kms.rotate if make_primary else self.kms.create_crypto_key_version)(KEY)
        number = len(self.states) + 1
        assert created["name"] == self._name(number)
        self.states[number] = "ENABLED"
        if make_primary:
            self.primary = number

    @rule(number=st.integers(1, 5), state=st.sampled_from(["ENABLED", "DISABLED"]))
    def patch(self, number: int, state: str) -> None:
        if self._expect(
            number, ("ENABLED", "DISABLED"), lambda: self.kms.update_version_state(self._name(number), state)
        ):
            self.states[number] = state

    @rule(number=st.integers(1, 5))
    def destroy(self, number: int) -> None:
        if self._expect(
            number, ("ENABLED", "DISABLED"), lambda: self.kms.destroy_version(self._name(number))
        ):
            self.states[number] = "DESTROY_SCHEDULED"
            self.destroy_at[number] = self.clock.now() + timedelta(days=30)

    @rule(number=st.integers(1, 5))
    def restore(self, number: int) -> None:
        if self._expect(number, ("DESTROY_SCHEDULED",), lambda: self.kms.restore_version(self._name(number))):
            self.states[number] = "DISABLED"

    @rule(days=st.integers(1, 20))
    def wait(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))

    @rule(plaintext=st.binary(max_size=32))
    def encrypt(self, plaintext: bytes) -> None:
        self._settle()
        if self.states[self.primary] != "ENABLED":
            with pytest.raises(KeyStateError):
                self.kms.encrypt(KEY, plaintext)
            return
        response = self.kms.encrypt(KEY, plaintext)
        assert response["name"] == self._name(self.primary)
        self.ciphertexts.append((self.primary, response["ciphertext"], plaintext))

    @rule(data=st.data())
    def decrypt(self, data: st.DataObject) -> None:
        if not self.ciphertexts:
            return
        number, ciphertext, plaintext = data.draw(st.sampled_from(self.ciphertexts))
        self._settle()
        if self.states[number] != "ENABLED":
            with pytest.raises(KeyStateError) as info:
                self.kms.decrypt(KEY, ciphertext)
            assert (
                info.value.message
                == f"{self._name(number)} is not enabled, current state is: {self.states[number]}."
            )
            return
        response = self.kms.decrypt(KEY, ciphertext)
        assert response["plaintext"] == plaintext
        assert response["usedPrimary"] == (number == self.primary)

    @invariant()
    def states_match_the_model(self) -> None:
        self._settle()
        listed = {
            int(v["name"].rsplit("/", 1)[1]): v["state"] for v in self.kms.list_crypto_key_versions(KEY)
        }
        assert listed == self.states
        assert self.kms.get_crypto_key(KEY)["primary"]["name"] == self._name(self.primary)


TestVersionLifecycle = VersionLifecycle.TestCase
