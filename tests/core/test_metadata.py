import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.metadata import decode_metadata, encode_metadata, split_headers


def test_seed_encoding() -> None:
    assert encode_metadata({"version": 1, "steps": [1, 2], "names": ["a", "b"], "empty": []}) == {
        "x-object-meta-version": "1",
        "x-object-meta-steps": "list=1,2",
        "x-object-meta-names": "list=a,b",
        "x-object-meta-empty": "list=",
    }


def test_decoding_is_case_insensitive_and_typed() -> None:
    headers = {"X-Object-Meta-Version": "3", "x-object-meta-ratio": "0.5", "x-object-meta-owner": "jane",
               "x-object-meta-ids": "list=3,4", "x-object-meta-tags": "list=a,4", "content-length": "10"}
    assert decode_metadata(headers) == {"version": 3, "ratio": 0.5, "owner": "jane", "ids": [3, 4], "tags": ["a", "4"]}
    general, custom = split_headers(headers)
    assert general == {"content-length": "10"}
    assert custom["version"] == 3


@pytest.mark.parametrize(
    "bad", [{"Bad Key": 1}, {"ok": "line\nbreak"}, {"ok": ["a,b"]}, {"ok": float("nan")}, {"ok": True}]
)
def test_unencodable_values_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        encode_metadata(bad)


keys = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True)
plain_text = st.text(alphabet=st.characters(blacklist_characters="\r\n\x00,", blacklist_categories=("Cs",)),
                     max_size=20).filter(lambda s: not s.startswith("list=")
                                         and decode_metadata({"x-object-meta-k": s})["k"] == s)
values = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: "e" not in repr(f) and "inf" not in repr(f)),
    plain_text,
    st.lists(st.integers(), max_size=5),
    st.lists(st.from_regex(r"[a-z][a-z0-9 ]{0,6}", fullmatch=True), min_size=1, max_size=5),
)


@given(st.dictionaries(keys, values, max_size=6))
def test_round_trip_of_what_the_codec_promises(metadata: dict) -> None:
    assert decode_metadata(encode_metadata(metadata)) == metadata
