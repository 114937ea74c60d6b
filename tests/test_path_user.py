"""A path names its user exactly: no near-variant of the caller's own id opens their tasks.

User ids are opaque strings compared as they are: a path that differs from the token's user by
letter case, Unicode case folding, normalisation (NFC/NFD/NFKC) or white space is another
user's path, 403 on every REST door that has ``{user_id}`` (surfaces A and B).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.doors import PATH_DOORS, Caller, Door, Outcome, Result, door_id, make

pytestmark = pytest.mark.anyio

PATH_DOOR = pytest.mark.parametrize("door", PATH_DOORS, ids=door_id)
NFC_ID, NFD_ID = "jos\u00e9-0004", "jose\u0301-0004"
NEAR_VARIANTS = [  # (the caller's id, the id written in the path)
    pytest.param("alice-0001", "ALICE-0001", id="upper case"),
    pytest.param("alice-0001", "Alice-0001", id="title case"),
    pytest.param("Alice-0001", "alice-0001", id="lower case"),
    pytest.param("stra\u00dfe-0005", "STRASSE-0005", id="case folding: sharp s"),
    pytest.param("stra\u00dfe-0005", "strasse-0005", id="casefold()"),
    pytest.param("kelvin-k", "kelvin-\u212a", id="case folding: Kelvin sign"),
    pytest.param("\u017ftar-0006", "star-0006", id="case folding: long s"),
    pytest.param("\u0130stanbul", "i\u0307stanbul", id="case folding: dotted capital I"),
    pytest.param("alice-0001", "alice-0001 ", id="trailing space"),
    pytest.param("alice-0001", " alice-0001", id="leading space"),
    pytest.param("alice-0001", "alice-0001\t", id="trailing tab"),
    pytest.param("alice-0001", "alice-0001\u00a0", id="trailing no-break space"),
    pytest.param("alice-0001", "alice\u200b-0001", id="zero-width space"),
    pytest.param(NFC_ID, NFD_ID, id="NFC caller, NFD path"),
    pytest.param(NFD_ID, NFC_ID, id="NFD caller, NFC path"),
    pytest.param("\ufb01le-0007", "file-0007", id="NFKC: ligature"),
    pytest.param("alice-0001", "\uff41lice-0001", id="NFKC: full-width letter"),
]


async def every_request(door: Door, http: httpx.AsyncClient, caller: Caller, path_user: str
                        ) -> list[Outcome]:
    """Every operation of ``door`` with ``path_user`` in the path, on the caller's own task."""
    own = await make(door, http, caller.user_id)
    return [
        await door.list(http, caller, path_user=path_user),
        await door.create(http, caller, {"title": "x"}, path_user=path_user),
        await door.get(http, caller, own["id"], path_user=path_user),
        await door.update(http, caller, own["id"], {"title": "y"}, path_user=path_user),
        await door.toggle(http, caller, own["id"], path_user=path_user),
        await door.delete(http, caller, own["id"], path_user=path_user),
    ]


@PATH_DOOR
@pytest.mark.parametrize(("user_id", "path_user"), NEAR_VARIANTS)
async def test_a_near_variant_of_the_callers_id_is_403(client: httpx.AsyncClient, door: Door,
                                                      user_id: str, path_user: str):
    assert path_user != user_id
    caller = Caller.signed(user_id)
    outcomes = await every_request(door, client, caller, path_user)
    assert {outcome.result for outcome in outcomes} == {Result.FORBIDDEN}
    own = await every_request(door, client, caller, user_id)  # the exact id, percent-encoded
    assert [outcome.result for outcome in own] == [Result.OK] * len(own)


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "upper": str.upper, "lower": str.lower, "casefold": str.casefold,
    "swapcase": str.swapcase, "title": str.title,
    "NFC": lambda text: unicodedata.normalize("NFC", text),
    "NFD": lambda text: unicodedata.normalize("NFD", text),
    "NFKC": lambda text: unicodedata.normalize("NFKC", text),
    "NFKD": lambda text: unicodedata.normalize("NFKD", text),
    "trailing space": lambda text: f"{text} ", "leading space": lambda text: f" {text}",
    "trailing tab": lambda text: f"{text}\t",
}
# Any text a token's user id may be, except "/" (a path separator even when percent-encoded)
# and the dot segments that clients remove from paths.
USER_IDS = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00/"),
                   min_size=1, max_size=12).filter(lambda text: text.strip()
                                                   and text not in (".", ".."))


def _usable_in_a_path(text: str) -> bool:
    return "/" not in text and text not in (".", "..") and "\x00" not in text


@PATH_DOOR
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user_id=USER_IDS, transform=st.sampled_from(sorted(TRANSFORMS)))
async def test_only_the_exact_id_opens_the_callers_tasks(client: httpx.AsyncClient, door: Door,
                                                         user_id: str, transform: str):
    caller = Caller.signed(user_id)
    assert (await door.list(client, caller)).result is Result.OK
    variant = TRANSFORMS[transform](user_id)
    if variant != user_id and _usable_in_a_path(variant):
        listed = await door.list(client, caller, path_user=variant)
        assert listed.result is Result.FORBIDDEN, (user_id, variant)
