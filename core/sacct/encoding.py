r"""Encoding sniffing: UTF-16 (Windows tools) made UTF-8, text that is not sacct refused, line breaks made plain.

pyarrow's readers split on ``\n`` only and read UTF-8: what they cannot read is made so here, or refused with a
message naming the byte.
"""

from __future__ import annotations

import codecs

from core.errors import SacctParseError

EXPECTED = (
    "expected sacct output: a header line of field names (e.g. 'JobID|JobName|State|Elapsed') in parsable or "
    "fixed-width form, or --json output; for --noheader output give the field list"
)


#: Bytes looked at to tell UTF-16 text without a byte order mark: a header line and the first records.
_UTF16_SAMPLE = 4096


def _utf16_codec(raw: bytes) -> tuple[str, int] | None:
    """The codec of UTF-16 text (``utf-16-le`` or ``-be``) and where the text starts; ``None`` for anything else.

    A byte order mark is certain. Without one, sacct's ASCII header and values put a NUL in every other byte: at
    least 9 of 10 code units of the sample with a NUL high byte, and no NUL character (which text never holds).
    """
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return None  # UTF-32's LE mark begins with UTF-16's; it is refused as binary
    if raw.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if raw.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = raw[: min(len(raw), _UTF16_SAMPLE) // 2 * 2]
    units = len(sample) // 2
    if units < 2 or any(low == 0 and high == 0 for low, high in zip(sample[0::2], sample[1::2], strict=True)):
        return None
    for codec, high in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        if high.count(0) * 10 >= units * 9:
            return codec, 0
    return None


def from_utf16(raw: bytes) -> bytes:
    """UTF-16 text (with or without a byte order mark) as UTF-8; any other input unchanged.

    Windows tools (PowerShell's ``>``, Notepad's "Unicode") save sacct output as UTF-16; what is decoded still has
    to be sacct output to be accepted, so a binary file taken for UTF-16 is refused as not sacct.
    """
    found = _utf16_codec(raw)
    if found is None:
        return raw
    codec, start = found
    try:
        return raw[start:].decode(codec).encode("utf-8")
    except UnicodeDecodeError as exc:
        why = "starts with a UTF-16 byte order mark" if start else "looks like UTF-16 text"
        raise SacctParseError(f"expected UTF-8 or UTF-16 sacct text; the input {why} but byte {start + exc.start} "
                              f"is not UTF-16 ({exc.reason}): save it as UTF-8") from None


def decode_text(text: str | bytes) -> str:
    """The input as text: UTF-8, no NUL, no byte order mark, not blank (else :class:`SacctParseError` saying why)."""
    if isinstance(text, bytes):
        if b"\x00" in text[:65536]:
            raise SacctParseError("expected sacct text output, got binary data (NUL bytes)")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SacctParseError(f"expected UTF-8 sacct text; byte {exc.start} is not UTF-8") from None
    if "\x00" in text[:65536]:
        raise SacctParseError("expected sacct text output, got binary data (NUL characters)")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SacctParseError("the input is empty: expected sacct output with a header line")
    return text


class NotUtf8(Exception):
    """pyarrow found a field that is not UTF-8."""


#: Line breaks other than "\n" (and "\r\n") that str.splitlines knows, as UTF-8: pyarrow does not split on them.
_ODD_BREAK_BYTES = tuple(c.encode("utf-8") for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def unusual_breaks(raw: bytes) -> bool:
    """Whether ``raw`` has line breaks that str.splitlines knows and pyarrow does not, or a lone carriage return."""
    # The first byte of each break (and "\r") is looked for first, a window of the input at a time: every search of
    # a window reads it from the CPU's cache, so the input is read from memory once, not once per byte looked for.
    present = _bytes_present(raw, {b[:1] for b in _ODD_BREAK_BYTES} | {b"\r"})
    return any(b[:1] in present and b in raw for b in _ODD_BREAK_BYTES) or (
        b"\r" in present and raw.count(b"\r") != raw.count(b"\r\n"))


#: Bytes of input searched at a time by :func:`_bytes_present` (well within a core's cache).
_WINDOW = 1 << 18


def _bytes_present(raw: bytes, wanted: set[bytes]) -> set[bytes]:
    """Which of the one-byte strings ``wanted`` occur in ``raw``."""
    missing = sorted(wanted)
    for start in range(0, len(raw), _WINDOW):
        missing = [b for b in missing if raw.find(b, start, start + _WINDOW) < 0]
        if not missing:
            break
    return wanted - set(missing)


def plain_breaks(raw: bytes) -> bytes | None:
    """``raw`` with every line break that str.splitlines knows made a newline (``None`` if it is not UTF-8)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "\n".join(text.removeprefix("\ufeff").splitlines()).encode("utf-8")


#: Bytes that stand in for a multi-byte delimiter, or split lines for pyarrow's reader, when the input lacks one.
#: The last three are line breaks for str.splitlines, so input whose breaks were made newlines lacks them.
_STAND_INS = (b"\x1f", b"\x01", b"\x02", b"\x03", b"\t", b"\x1e", b"\x1d", b"\x1c")


def free_byte(raw: bytes) -> bytes | None:
    """A byte of :data:`_STAND_INS` that ``raw`` lacks, or ``None``."""
    return next((b for b in _STAND_INS if b not in raw), None)
