import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidName
from core.naming import bucket_name, format_user, object_path, validate_bucket_name


def test_format_user_lower_cases_and_strips_dashes() -> None:
    assert format_user("Jane.Doe@Example.com") == "jane-doe-example-com"
    assert format_user("--User@Example.com--") == "user-example-com"
    assert format_user("user@example.com") == "user-example-com"


@given(st.text())
def test_format_user_output_is_bucket_safe(user: str) -> None:
    out = format_user(user)
    assert out == "" or all(part and part.isascii() and part.isalnum() and part == part.lower()
                            for part in out.split("-"))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("forwarder", "mlch-for-air"),
        ("submitter", "mlch-sub-air-jane-doe-example-com"),
        ("pipeline", "mlch-pipe-jane-doe-example-com"),
        ("experiment", "mlch-exp-jane-doe-example-com"),
    ],
)
def test_bucket_names_follow_the_convention(target: str, expected: str) -> None:
    assert bucket_name(target, "mlch", "Jane.Doe@Example.com") == expected


def test_unknown_target_and_name_raise_value_error() -> None:
    with pytest.raises(ValueError, match="unknown bucket target 'archive'"):
        bucket_name("archive", "mlch", "u")
    with pytest.raises(ValueError, match="unknown object name 'logz'"):
        object_path("logz")


def test_refused_bucket_names_are_named() -> None:
    for bad in ["", "a/b", "x" * 257]:
        with pytest.raises(InvalidName):
            validate_bucket_name(bad)
    with pytest.raises(InvalidName, match="a/b"):
        validate_bucket_name("a/b")
    assert validate_bucket_name("é" * 128) == "é" * 128  # 256 bytes is allowed
    with pytest.raises(InvalidName):
        validate_bucket_name("é" * 129)  # 258 bytes
    with pytest.raises(InvalidName):
        bucket_name("submitter", "mlch", "@@@")


def test_object_paths_replace_and_append() -> None:
    assert object_path("mana", {"name": "1.pkl"}) == "MANAGEMENT/1.pkl"
    assert object_path("time", {"name": "run-1.parquet"}) == "TIMES/run-1.parquet"
    assert object_path("arti", {"name": "SACCT"}, ["user-run-1.parquet"]) == "ARTIFACTS/SACCT/user-run-1.parquet"
    assert object_path("root", {"name": "a.txt"}) == "a.txt"
    # An empty replacer keeps the template part, as in the seed.
    assert object_path("data", {"name": ""}, ["x"]) == "DATA/name/x"


def test_object_paths_refuse_empty_segments() -> None:
    with pytest.raises(InvalidName, match="DATA//2"):
        object_path("root", {"name": "DATA"}, ["", "2"])
    with pytest.raises(InvalidName):
        object_path("data", {"name": ".."})


def test_folders_and_pipeline_objects_come_from_the_object_name_templates() -> None:
    from core.naming import folder, log_object, management_object, sacct_run_object, times_object

    assert (folder("logs"), folder("arti", "SACCT"), folder("mana"), folder("time"), folder("root")) == (
        "LOGS/", "ARTIFACTS/SACCT/", "MANAGEMENT/", "TIMES/", "")
    assert sacct_run_object("Jane.Doe@Example.com", "r-1") == "ARTIFACTS/SACCT/jane-doe-example-com-r-1.parquet"
    assert times_object("run-1") == "TIMES/run-1.parquet"
    assert management_object("1.pkl") == "MANAGEMENT/1.pkl" and log_object("slurm-1.out") == "LOGS/slurm-1.out"
    with pytest.raises(InvalidName):
        folder("arti", "..")
    with pytest.raises(ValueError, match="unknown object name"):
        folder("nope")
