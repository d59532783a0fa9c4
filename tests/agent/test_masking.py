"""Masking secrets in streamed text: a key split across deltas is masked whole, nothing else is lost."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from codex_lsp.agent.masking import StreamMask, held_back

SECRETS = ("sk-abcdef123456", "eyJhbGciOi.token.sig", "sk-abc")
"""Longest first, as the model client's redactor orders them; one is a prefix of another."""


def scrub(text: str) -> str:
    for secret in SECRETS:
        text = text.replace(secret, "***")
    return text


def stream(pieces: list[str]) -> list[str]:
    mask = StreamMask(scrub, SECRETS)
    shown = [mask.feed(piece) for piece in pieces]
    return [*shown, mask.flush()]


def test_a_key_split_across_deltas_is_masked_whole() -> None:
    shown = stream(["your key: sk-ab", "cdef12", "3456 and more"])
    assert shown == ["your key: ", "", "*** and mor", "e"], "a final e could start eyJ…: held to the end"


def test_an_end_that_only_looks_like_a_key_is_shown_with_the_next_delta_or_at_the_end() -> None:
    assert stream(["e", "asy"]) == ["", "easy", ""]
    assert stream(["say sk-"]) == ["say ", "sk-"]


def test_a_short_secret_that_starts_a_longer_one_waits_for_the_rest() -> None:
    assert stream(["sk-abc", "def123456!"]) == ["", "***!", ""]
    assert stream(["sk-abc", " then"]) == ["", "*** then", ""]


def test_the_text_is_never_cut_through_a_secret() -> None:
    """A secret whose end starts another one: holding back that start must not split the first."""
    secrets = ("key-AAAA-BBBB", "BBBB-tail-CCCC")
    mask = StreamMask(lambda text: text.replace(secrets[0], "***"), secrets)
    shown = [mask.feed("say key-AAAA-BBBB"), mask.feed("-x"), mask.flush()]
    assert shown == ["say ", "***-x", ""]


def test_held_back_is_the_longest_end_that_starts_a_secret() -> None:
    assert held_back("x sk-abcdef", SECRETS) == len("sk-abcdef")
    assert held_back("x sk-abc", SECRETS) == len("sk-abc"), "a whole secret that is another's start"
    assert held_back("nothing hard", SECRETS) == 0
    assert held_back("eyJ", SECRETS) == 3


@given(
    words=st.lists(
        st.sampled_from([*SECRETS, "sk-", "e", "ey", "abc", " ", "sk-abcX", "plain"]), max_size=12
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_any_split_shows_the_masked_text_and_never_a_secret(words: list[str], cuts: list[int]) -> None:
    text = "".join(words)
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    pieces = [text[a:b] for a, b in itertools.pairwise(points)]
    shown = stream(pieces)
    assert "".join(shown) == scrub(text)
    for piece in shown:
        assert not any(secret in piece for secret in SECRETS)


def test_a_secret_inside_a_longer_one_is_masked_with_it_across_deltas() -> None:
    """A gateway key that extends the API key (the model client lists secrets longest first): split
    anywhere, the longer one is masked whole, never leaving its tail after the shorter one's mask."""
    secrets = ("gw-sk-abcdef123456-proxy-7c1d", "sk-abcdef123456")

    def ordered_scrub(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    text = f"key {secrets[0]} and {secrets[1]}."
    for cut in range(1, len(text)):
        mask = StreamMask(ordered_scrub, secrets)
        shown = mask.feed(text[:cut]) + mask.feed(text[cut:]) + mask.flush()
        assert shown == "key *** and ***.", cut
