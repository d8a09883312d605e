"""Bytes in and out of storage: parquet frames, management objects (JSON, or the seed's pickles read safely)."""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.errors import ObjectTooLarge, UnsafePickleError
from core.models import Orchestration
from core.settings import ReadLimits

#: Chosen from `make bench` (serialization figures): zstd is as fast to read as snappy and smaller.
DEFAULT_COMPRESSION = "zstd"


def frame_to_parquet(df: pd.DataFrame, *, compression: str | None = DEFAULT_COMPRESSION,
                     split_floats: Collection[str] = (), single_floats: Collection[str] = ()) -> bytes:
    """Serialise a frame (columns, dtypes and index) to parquet bytes.

    Encodings every Parquet reader (pyarrow, DuckDB, Spark, Trino) reads, for columns the caller knows the shape of
    (a year of 1,000,000 jobs' tables: 65 MiB plain, 47 MiB split, 37 MiB with 32-bit ratios; `make bench`'s
    ``history`` area):

    - ``split_floats``: float columns of mostly distinct values (times, durations, ratios), written with Parquet's
      BYTE_STREAM_SPLIT encoding and no dictionary, which compresses them far better.
    - ``single_floats``: float columns whose figures need no more than 7 significant digits (ratios shown as a
      percentage with one decimal), written as 32-bit floats: half the bytes of values that do not compress.

    Text columns keep dictionary or plain encoding: the guarded decoder reads them as dictionaries to count their
    expanded size before expanding them, which pyarrow cannot do for delta-encoded text.
    """
    table = pa.Table.from_pandas(df, preserve_index=None)
    for name in single_floats:
        if name in table.column_names and pa.types.is_float64(table.schema.field(name).type):
            at = table.schema.get_field_index(name)
            table = table.set_column(at, table.schema.field(name).with_type(pa.float32()),
                                     table.column(at).cast(pa.float32()))
    encodings = {name: "BYTE_STREAM_SPLIT" for name in split_floats if name in table.column_names
                 and pa.types.is_floating(table.schema.field(name).type)}
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=compression or "none",
                   use_dictionary=[n for n in table.column_names if n not in encodings] if encodings else True,
                   column_encoding=encodings or None)
    return bytes(memoryview(sink.getvalue()))


#: Rows decoded at a time, so the decoded-bytes limit is checked long before memory runs out.
DECODE_BATCH_ROWS = 65_536


def parquet_to_frame(data: bytes, limits: ReadLimits | None = None) -> pd.DataFrame:
    """Read parquet bytes back into the frame that was written, within ``limits``.

    Raises:
        ObjectTooLarge: more rows or decoded bytes than ``limits`` allow (the object's name is added by the caller).
        ValueError: not a readable parquet object.
    """
    table = parquet_to_table(data, limits)
    try:
        frame: pd.DataFrame = table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError, KeyError, IndexError) as exc:
        # pandas metadata that does not fit the columns can surface as any of these.
        raise ValueError(f"not a parquet object ({len(data):,} bytes): {type(exc).__name__}: {exc}") from None
    return frame


def parquet_to_table(data: bytes, limits: ReadLimits | None = None, *, columns: Sequence[str] | None = None,
                     dictionaries: bool = False) -> pa.Table:
    """Decode parquet bytes within ``limits``: every reader of stored parquet goes through here.

    A few hundred KB of parquet can expand to tens of millions of rows, so the row count is taken from the footer
    before anything is decoded, and decoded bytes are counted batch by batch. Only ``columns`` are decoded when
    given (those the object has; the others are left out). Text columns stay dictionaries (each distinct value
    once; pandas reads them as categories) when ``dictionaries`` is true, else they come back as written.

    Raises:
        ObjectTooLarge: more rows or decoded bytes than ``limits`` allow (the object's name is added by the caller).
        ValueError: not a readable parquet object.
    """
    limits = limits or ReadLimits()
    too_big = f"over {limits.bytes / 2**20:,.0f} MiB when decoded (READ_LIMIT_MB)"
    try:
        footer = pq.ParquetFile(pa.BufferReader(data))
        meta, schema = footer.metadata, footer.schema_arrow
        if meta.num_rows > limits.rows:
            raise ObjectTooLarge(f"{meta.num_rows:,} rows; the limit is {limits.rows:,} (READ_LIMIT_ROWS)")
        # The footer's uncompressed sizes (pages, dictionary pages included) bound what plain pages decode to.
        if sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) > limits.bytes:
            raise ObjectTooLarge(too_big)
        if columns is not None:
            wanted = set(columns)
            schema = pa.schema([f for f in schema if f.name in wanted], metadata=None)
        # Text columns are read as dictionaries (each distinct value once), and their size once expanded is counted
        # from the value lengths before a batch is expanded: a few hundred bytes repeating one long value millions
        # of times are refused without ever being expanded.
        text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_binary(f.type)
                or pa.types.is_large_string(f.type) or pa.types.is_large_binary(f.type)]
        parquet = pq.ParquetFile(pa.BufferReader(data), read_dictionary=text) if text else footer
        batches, decoded = [], 0
        for batch in parquet.iter_batches(batch_size=DECODE_BATCH_ROWS, columns=schema.names):
            decoded += _expanded_bytes(batch)
            if decoded > limits.bytes:
                raise ObjectTooLarge(too_big)
            batches.append(batch if dictionaries else _expanded(batch, schema))
        table = (pa.Table.from_batches(batches, schema=batches[0].schema) if dictionaries and batches
                 else pa.Table.from_batches(batches, schema=schema))
        # Of some columns, the pandas metadata of the whole frame would name columns that are not there.
        return table if columns is None else table.replace_schema_metadata(None)
    except ObjectTooLarge:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        # A damaged footer or page can surface as any of these.
        raise ValueError(f"not a parquet object ({len(data):,} bytes): {type(exc).__name__}: {exc}") from None


def _expanded_bytes(batch: pa.RecordBatch) -> int:
    """Bytes ``batch`` takes once its dictionary columns are expanded, computed without expanding them."""
    total = 0
    for column in batch.columns:
        if pa.types.is_dictionary(column.type):
            lengths = pc.binary_length(column.dictionary)
            total += int(pc.sum(pc.take(lengths, column.indices)).as_py() or 0) + 8 * len(column)
        else:
            total += column.nbytes
    return total


def _expanded(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with its dictionary columns expanded to the file's own types."""
    pairs = zip(batch.columns, schema, strict=True)
    columns = [column.cast(field.type) if pa.types.is_dictionary(column.type) and not
               pa.types.is_dictionary(field.type) else column for column, field in pairs]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def frame_to_csv(df: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV without the index."""
    text: str = df.to_csv(index=False)
    return text.encode("utf-8")


class _PlainDataUnpickler(pickle.Unpickler):
    """Unpickles only builtin containers and scalars.

    Plain dicts, lists, tuples, sets, strings, bytes, numbers, booleans and None never need ``find_class``; anything
    else (a class, a function such as ``os.system``) does, and is refused before it is imported or called.
    """

    def find_class(self, module: str, name: str) -> Any:
        raise UnsafePickleError(f"refused to load {module}.{name} from a pickle: only plain data is accepted")


def safe_unpickle(data: bytes) -> Any:
    """Load a pickle that may only contain builtin containers and scalars."""
    try:
        return _PlainDataUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # a corrupt pickle can raise almost anything
        raise ValueError(f"not a readable pickle: {type(exc).__name__}") from None


def load_management(data: bytes) -> dict[str, Any]:
    """The orchestration content of a management object, JSON or the seed's pickled dict.

    Raises:
        UnsafePickleError: the pickle tried to import or call something.
        ValueError: neither JSON nor a pickle of a dict.
    """
    stripped = data.lstrip()
    if stripped[:1] in (b"{", b"["):
        try:
            content = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"management object is not valid JSON: {exc}") from None
        except RecursionError:
            raise ValueError("management object is not valid JSON: nested too deeply") from None
    elif data[:1] == b"\x80" or data[:1] in (b"(", b"}", b"]"):
        content = safe_unpickle(data)
    else:
        raise ValueError("management object is neither JSON nor a pickle of a dict")
    if not isinstance(content, dict):
        raise ValueError(f"management object holds a {type(content).__name__}, expected a dict")
    return content


def dump_management(obj: Orchestration | dict[str, Any]) -> bytes:
    """Serialise a management object as UTF-8 JSON (the format new objects are written in)."""
    content = obj.model_dump(by_alias=True, exclude_none=True) if isinstance(obj, Orchestration) else obj
    return json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
