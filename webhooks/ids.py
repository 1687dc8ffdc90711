import secrets
import time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EVENT_ID_PREFIX = "evt_"


def event_id_generate() -> str:
    """ "evt_" and a ULID: 48 bits of milliseconds and 80 random bits, so ids sort by creation time."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    characters = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        characters.append(CROCKFORD[digit])
    return EVENT_ID_PREFIX + "".join(reversed(characters))
