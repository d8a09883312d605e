from pathlib import Path

import pytest

from core.errors import SettingsError
from core.settings import load_settings


def test_defaults_without_env() -> None:
    s = load_settings(None, {})
    assert s.store == "local" and s.bucket_prefix == "mlch" and s.sacct_timezone == "UTC"
    assert s.csc_auth_url == "https://pouta.csc.fi:5001/v3"
    assert s.csc_project_domain_name == "Default" and not s.swift_configured


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("CSC_USERNAME=alice\nCSC_USER_DOMAIN_NAME=CSC\nBUCKET_PREFIX=from-file\nSTORE=swift\n"
                   "CSC_PROJECT_NAME=project_1\nCSC_PASSWORD=s3cret\n")
    s = load_settings(env, {"BUCKET_PREFIX": "from-env"})
    assert s.csc_username == "alice" and s.bucket_prefix == "from-env"
    assert s.csc_project_domain_name == "CSC"  # defaults to the user domain
    assert s.swift_configured
    assert s.csc_password is not None and s.csc_password.get_secret_value() == "s3cret"


def test_password_never_printed() -> None:
    s = load_settings(None, {"CSC_PASSWORD": "hunter2-very-secret"})
    for text in (repr(s), str(s), s.model_dump_json(), str(s.model_dump())):
        assert "hunter2-very-secret" not in text


@pytest.mark.parametrize(
    ("key", "value"),
    [("STORE", "ftp"), ("SACCT_TIMEZONE", "Mars/Base"), ("UPLOAD_LIMIT_MB", "-1"), ("BUCKET_PREFIX", "a/b"),
     ("CSC_AUTH_URL", "pouta.csc.fi"), ("UPLOAD_LIMIT_MB", "lots")],
)
def test_wrong_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(None, {key: value})
    assert info.value.key == key and key in str(info.value)


def test_error_never_echoes_a_password_value() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(None, {"CSC_PASSWORD": "pw-123", "STORE": "nope"})
    assert "pw-123" not in str(info.value)


def test_upload_limit_cannot_pass_the_servers_upload_ceiling() -> None:
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    ceiling = config["server"]["maxUploadSize"]
    assert load_settings(None, {"UPLOAD_LIMIT_MB": str(ceiling)}).upload_limit_mb == ceiling
    with pytest.raises(SettingsError, match="UPLOAD_LIMIT_MB"):
        load_settings(None, {"UPLOAD_LIMIT_MB": str(ceiling + 1)})


def test_attention_thresholds_and_default_platform() -> None:
    defaults = load_settings(None, {})
    assert (defaults.default_platform, defaults.stuck_after_minutes, defaults.quota_alert_percent) == ("other", 120, 90)
    assert load_settings(None, {"DEFAULT_PLATFORM": " Mahti "}).default_platform == "mahti"
    for key, value in (("DEFAULT_PLATFORM", "hyak"), ("STUCK_AFTER_MINUTES", "0"), ("QUOTA_ALERT_PERCENT", "101")):
        with pytest.raises(SettingsError, match=key):
            load_settings(None, {key: value})
