from pathlib import Path

import pytest

from core.billing import Rates
from core.delivery import NotifySettings
from core.errors import SettingsError
from core.sacct.advice import Thresholds
from core.settings import ENV_NAMES, CollectSettings, Settings, load_settings


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


def test_every_env_name_comes_from_the_model_nested_ones_included() -> None:
    from pydantic import BaseModel

    names = []
    for field, info in Settings.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names += [f"{field.upper()}_{sub.upper()}" for sub in kind.model_fields]
        else:
            names.append(field.upper())
    assert sorted(ENV_NAMES) == sorted(names)
    assert {f"ADVICE_{n.upper()}" for n in Thresholds.model_fields} <= set(ENV_NAMES)
    assert {f"BILLING_{n.upper()}" for n in Rates.model_fields} <= set(ENV_NAMES)
    assert {f"NOTIFY_{n.upper()}" for n in NotifySettings.model_fields} <= set(ENV_NAMES)
    assert {f"COLLECT_{n.upper()}" for n in CollectSettings.model_fields} <= set(ENV_NAMES)
    assert "BILLING_PUHTI_BU_PER_CORE_HOUR" in ENV_NAMES and "BUDGET_CSC_GPU_BU" in ENV_NAMES
    assert "BILLING" not in ENV_NAMES and "ADVICE" not in ENV_NAMES and "NOTIFY" not in ENV_NAMES


def test_nested_rates_and_thresholds_from_their_names_env_over_file_key_by_key(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("BILLING_MAHTI_BU_PER_NODE_HOUR=50\nBILLING_PUHTI_BU_PER_CORE_HOUR=9\nADVICE_MIN_MINUTES=30\n")
    s = load_settings(env, {"BILLING_PUHTI_BU_PER_CORE_HOUR": " 2 ", "ADVICE_CPU_EFFICIENCY_PERCENT": "40"})
    assert s.billing.puhti_bu_per_core_hour == 2  # the environment wins
    assert s.billing.mahti_bu_per_node_hour == 50  # the file's other rate stays
    assert s.billing.roihu_bu_per_node_hour == Rates().roihu_bu_per_node_hour  # the default
    assert (s.advice.min_minutes, s.advice.min_seconds) == (30, 1800)
    assert (s.advice.cpu_efficiency_percent, s.advice.cpu_efficiency) == (40, 0.4)
    assert load_settings(None, {}).billing == Rates() and load_settings(None, {}).advice == Thresholds()


def test_a_nested_model_is_never_read_whole_from_one_variable() -> None:
    s = load_settings(None, {"BILLING": '{"puhti_bu_per_core_hour": 5}', "ADVICE": "nonsense"})
    assert s.billing == Rates() and s.advice == Thresholds()


@pytest.mark.parametrize(("key", "value"), [("BILLING_LUMI_GB_PER_CORE_HOUR", "0"), ("BILLING_MAHTI_BU_PER_NODE_HOUR",
                                             "-1"), ("ADVICE_OOM_FACTOR", "lots"), ("ADVICE_CPU_EFFICIENCY_PERCENT",
                                                                                    "101")])
def test_a_wrong_nested_value_names_its_variable(key: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(None, {key: value})
    assert info.value.key == key


def test_constructing_settings_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUCKET_PREFIX", "from-shell")
    monkeypatch.setenv("BILLING_PUHTI_BU_PER_CORE_HOUR", "7")
    assert Settings().bucket_prefix == "mlch" and Settings().billing == Rates()
    assert load_settings(None).billing.puhti_bu_per_core_hour == 7


def test_collect_settings_are_read_in_their_units_and_checked() -> None:
    s = load_settings(None, {"COLLECT_WINDOW_DAYS": "7", "COLLECT_OVERLAP_MINUTES": "90"})
    assert (s.collect.window_days, s.collect.overlap_minutes, s.collect.first_days) == (7, 90, 30)
    with pytest.raises(SettingsError, match="COLLECT_WINDOW_DAYS"):
        load_settings(None, {"COLLECT_WINDOW_DAYS": "0"})
