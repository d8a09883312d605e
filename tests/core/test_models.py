import pytest
from pydantic import ValidationError

from core.models import Job, Orchestration, Platform, Status, Workspace


def test_status_phase_priority() -> None:
    assert Status().phase == "new"
    assert Status(start=True, config=True, submit=True, pending=True).phase == "pending"
    assert Status(running=True, failed=True).phase == "failed"
    assert Status(complete=True, stored=True).phase == "stored"
    assert Status(running=True, cancel=True).phase == "cancelled"


def test_workspace_aliases_and_numbers() -> None:
    w = Workspace.model_validate({"path": "/users/csc", "used-capacity": "2.2M", "max-capacity": "10G",
                                  "used-files": ".97k", "max-files": "100K"})
    assert w.max_capacity_bytes == 10 * 1024**3 and w.used_files_count == 970 and w.max_files_count == 100_000
    dumped = w.model_dump(by_alias=True)
    assert dumped["used-capacity"] == "2.2M" and "used_capacity" not in dumped


def test_platform_defaults_are_not_the_seed_bug() -> None:
    platform = Platform.model_validate({"jobs": [{"path": "/users/csc/ray.sh"}]})
    assert platform.files.send == [] and platform.files.get == []
    assert platform.properties is None and platform.jobs[0].id == "None"


def test_orchestration_takes_any_platform_name() -> None:
    orch = Orchestration.model_validate({"name": "x", "platforms": {"puhti": {}, "roihu": {}}})
    assert set(orch.platforms) == {"puhti", "roihu"}


def test_validation_errors_name_the_field() -> None:
    with pytest.raises(ValidationError, match="status"):
        Job.model_validate({"path": "/a", "status": "running"})
    with pytest.raises(ValidationError, match="max-capacity"):
        Workspace.model_validate({"path": "/a", "used-capacity": "1", "used-files": "1", "max-files": "1"})
