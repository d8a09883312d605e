"""core.errors: a storage error names its bucket/object; a page's message names it once."""

from __future__ import annotations

from core.errors import DamagedObject, SacctParseError, StoreUnavailable, failure_message


def test_a_storage_error_names_its_object_and_transaction() -> None:
    error = DamagedObject("truncated", bucket="b", obj="TIMES/t.parquet", transaction_id="tx1")
    assert str(error) == "truncated (object b/TIMES/t.parquet) [transaction tx1]"
    assert str(StoreUnavailable(bucket="b")) == "object storage is unavailable (bucket b)"
    assert str(DamagedObject(obj="o")) == "the object cannot be read (object o)"
    assert str(StoreUnavailable()) == "object storage is unavailable"


def test_the_page_words_naming_the_object_are_not_repeated_by_the_error() -> None:
    error = DamagedObject("truncated", bucket="b", obj="TIMES/t.parquet", transaction_id="tx1")
    assert failure_message("Could not read b/TIMES/t.parquet", error) == \
        "Could not read b/TIMES/t.parquet: truncated [transaction tx1]"
    assert failure_message("Could not list b/LOGS/", StoreUnavailable("timed out", bucket="b")) == \
        "Could not list b/LOGS/: timed out"


def test_words_that_do_not_name_the_object_keep_the_error_s_name() -> None:
    error = DamagedObject("truncated", bucket="b", obj="TIMES/t.parquet")
    assert failure_message("Could not read the TIMES objects", error) == \
        "Could not read the TIMES objects: truncated (object b/TIMES/t.parquet)"
    # the object's name alone is not its location: the bucket would be lost
    assert failure_message("Could not read TIMES/t.parquet", error) == \
        "Could not read TIMES/t.parquet: truncated (object b/TIMES/t.parquet)"
    assert failure_message("The sacct input was not accepted", SacctParseError("line 3: no header")) == \
        "The sacct input was not accepted: line 3: no header"
