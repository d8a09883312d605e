"""Property tests on every reader of outside input: sacct text, workspace listings, custom metadata, management
objects. Generated valid input reads back to what was generated; mutated or arbitrary input gives a result or the
reader's documented error, nothing else. Example counts come from the profile (tests/conftest.py)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import SacctParseError, UnsafePickleError
from core.metadata import decode_metadata, encode_metadata
from core.sacct import JOB_STATES, NULL_TOKENS, parse_sacct, to_parsable2
from core.serialize import dump_management, load_management
from core.workspaces import parse_workspaces
from tests import samples

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]
_NAME = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_.<>&;:#*[]()!",
                              max_codepoint=0x2FFF), min_size=1, max_size=24).filter(lambda n: n not in NULL_TOKENS)
_UNITS = ["", "K", "M", "G", "T"]


# A name sacct prints for a missing value (None, Unknown, ...) is read as missing: not a job name to round-trip.
@st.composite
def sacct_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """Rows of JobID, JobName, State, Elapsed, AllocCPUS, MaxRSS as sacct prints them."""
    count = draw(st.integers(1, 12))
    rows = []
    for i in range(count):
        days, hours = draw(st.integers(0, 9)), draw(st.integers(0, 23))
        minutes, seconds = draw(st.integers(0, 59)), draw(st.integers(0, 59))
        elapsed = (f"{days}-" if days else "") + f"{hours:02d}:{minutes:02d}:{seconds:02d}"
        rows.append({
            "JobID": str(1000 + i),
            "JobName": draw(_NAME),
            "State": draw(st.sampled_from(sorted(JOB_STATES))),
            "Elapsed": elapsed,
            "AllocCPUS": str(draw(st.integers(1, 1024))),
            "MaxRSS": f"{draw(st.integers(0, 4096))}{draw(st.sampled_from(_UNITS))}",
        })
    return rows


def _parsable(rows: list[dict[str, str]], trailing: str) -> str:
    header = list(rows[0])
    lines = ["|".join(header) + trailing] + ["|".join(r[h] for h in header) + trailing for r in rows]
    return "\n".join(lines) + "\n"


def _fixed_width(rows: list[dict[str, str]]) -> bytes:
    """As sacct prints it: printf pads to a width in bytes, so a multi-byte character takes its bytes' columns."""
    header = list(rows[0])
    cells = [{h: r[h].encode() for h in header} for r in rows]
    widths = [max(len(h), *(len(c[h]) for c in cells)) for h in header]
    lines = [b" ".join(h.encode().ljust(w) for h, w in zip(header, widths, strict=True)),
             b" ".join(b"-" * w for w in widths)]
    lines += [b" ".join(c[h].rjust(w) for h, w in zip(header, widths, strict=True)) for c in cells]
    return b"\n".join(lines) + b"\n"


def _seconds(elapsed: str) -> float:
    days, _, clock = elapsed.rpartition("-")
    h, m, s = (int(x) for x in clock.split(":"))
    return float((int(days) if days else 0) * 86400 + h * 3600 + m * 60 + s)


def _bytes(size: str) -> float:
    unit = size[-1] if size[-1] in "KMGT" else ""
    return float(int(size[: len(size) - len(unit)]) * 1024 ** _UNITS.index(unit))


@settings(deadline=None, suppress_health_check=SLOW)
@given(sacct_rows())
def test_generated_sacct_reads_the_same_in_every_text_format_and_round_trips(rows: list[dict[str, str]]) -> None:
    two = parse_sacct(_parsable(rows, ""))
    assert two.format == "parsable2" and not two.warnings
    frame = two.frame
    assert frame["job-id"].tolist() == [r["JobID"] for r in rows]
    assert frame["job-name"].tolist() == [r["JobName"] for r in rows]
    assert frame["state"].tolist() == [r["State"] for r in rows]
    assert frame["elapsed-seconds"].tolist() == [_seconds(r["Elapsed"]) for r in rows]
    assert frame["alloc-cpus"].tolist() == [int(r["AllocCPUS"]) for r in rows]
    assert frame["max-rss"].tolist() == [_bytes(r["MaxRSS"]) for r in rows]
    texts: list[tuple[str | bytes, str]] = [(_parsable(rows, "|"), "parsable"), (_fixed_width(rows), "fixed")]
    for text, layout in texts:
        other = parse_sacct(text)
        assert other.format.startswith(layout), other.format
        pd.testing.assert_frame_equal(other.frame, frame)
    again = parse_sacct(to_parsable2(frame))
    pd.testing.assert_frame_equal(again.frame, frame)


def _sample_heads() -> list[bytes]:
    names = ["01_hyak_default_fixedwidth.txt", "04_csc_mahti_fixedwidth_split.txt", "05_torchx_hetjob_parsable.txt",
             "08_tdhock_parsable2_manyfields.txt", "13_slurmdog_json_slurm23.02.txt"]
    return [b"".join(samples.sacct(n).read_bytes().splitlines(keepends=True)[:30]) for n in names]


_HEADS = _sample_heads()


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_HEADS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["delete", "insert", "flip", "truncate", "duplicate"]))
        if action == "delete":
            del data[at: at + draw(st.integers(1, 80))]
        elif action == "insert":
            data[at:at] = draw(st.sampled_from([b"|", b"\n", b"\r\n", b"\x00", b"\xff\xfe", b"-", b" ", b"{", b"}",
                                                b'"', b"UNLIMITED", b"9999999999999999999999", b"1-25:99:99"]))
        elif action == "flip" and data:
            data[min(at, len(data) - 1)] ^= draw(st.integers(1, 255))
        elif action == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at: at + draw(st.integers(1, 200))]
    return bytes(data)


@settings(deadline=None, suppress_health_check=SLOW)
@given(mutated_samples())
def test_mutated_real_samples_give_a_result_or_a_parse_error(data: bytes) -> None:
    try:
        parsed = parse_sacct(data)
    except SacctParseError:
        return
    assert isinstance(parsed.frame, pd.DataFrame)
    assert all(w.line >= 0 for w in parsed.warnings)


_SIZE = st.builds(lambda n, u: f"{n}{u}", st.integers(0, 999), st.sampled_from(["", "K", "M", "G", "T"]))


@settings(deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["/users/", "/scratch/project_", "/projappl/project_"]),
                          st.text("abcdefgh0123456789_", min_size=1, max_size=12), _SIZE, _SIZE, _SIZE, _SIZE),
                max_size=8), st.text(max_size=200))
def test_workspace_rows_read_back_and_other_lines_never_break_the_listing(
    rows: list[tuple[str, str, str, str, str, str]], prose: str
) -> None:
    lines = [f"{root}{name}   {a}/{b}   {c}/{d}   some description" for root, name, a, b, c, d in rows]
    listing = parse_workspaces("Disk area  Capacity(used/max)  Files(used/max)\n" + "\n".join(lines))
    assert [(w.path, w.used_capacity, w.max_capacity, w.used_files, w.max_files) for w in listing.workspaces] == [
        (f"{root}{name}", a, b, c, d) for root, name, a, b, c, d in rows]
    assert listing.problems == []
    mixed = parse_workspaces(prose + "\n/users/" + prose)  # anything at all: problems, never an exception
    assert all(p.line >= 1 for p in mixed.problems)


@given(st.dictionaries(st.text(max_size=40), st.text(max_size=200), max_size=12))
def test_any_headers_decode_without_error(headers: dict[str, str]) -> None:
    prefixed = {("X-Object-Meta-" if i % 2 else "") + k: v for i, (k, v) in enumerate(headers.items())}
    custom = decode_metadata(prefixed)
    assert len(custom) <= len(prefixed)


@given(st.dictionaries(st.text(max_size=20), st.one_of(st.text(max_size=40), st.integers(), st.floats(),
                                                      st.booleans(), st.lists(st.text(max_size=8), max_size=4)),
                       max_size=6))
def test_encoding_any_metadata_gives_headers_or_a_value_error(metadata: dict[str, object]) -> None:
    try:
        headers = encode_metadata(metadata)  # type: ignore[arg-type]
    except ValueError:
        return
    assert set(decode_metadata(headers)) == set(metadata)


_PLAIN = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                st.text(max_size=20)),
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                   max_size=4), max_leaves=20)


@given(st.dictionaries(st.text(max_size=10), _PLAIN, max_size=5), st.integers(0, 5))
def test_plain_management_content_round_trips_as_json_and_as_pickle(content: dict[str, object],
                                                                    protocol: int) -> None:
    assert load_management(dump_management(content)) == content
    assert load_management(pickle.dumps(content, protocol=protocol)) == content


class _Anything:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path, ("/",))


@given(st.binary(max_size=300) | st.sampled_from([pickle.dumps({"a": _Anything()}), pickle.dumps([1, 2]),
                                                  b'{"a": ' * 50_000, b"[" * 100_000]))
def test_any_bytes_give_a_dict_or_a_value_error(data: bytes) -> None:
    try:
        content = load_management(data)
    except UnsafePickleError:
        assert b"Path" in data or b"pathlib" in data
        return
    except ValueError:
        return
    assert isinstance(content, dict)
