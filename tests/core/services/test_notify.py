"""hpc-monitor notify's service against real receivers on loopback: each item once, across runs and concurrent runs;
the hourly limit's digest; a failing receiver leaves items unsent; the weekly digest per project."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.serialize import dump_management, load_management
from core.services import digest, notify, upload
from core.settings import Settings, load_settings
from core.store.local import LocalStore
from tests.receivers import Mailbox, Webhook, smtp_receiver, webhook_receiver

FIELDS = ("JobID|JobName|Account|Partition|State|ExitCode|Elapsed|Timelimit|AllocCPUS|NNodes|TotalCPU|ReqMem|MaxRSS|"
          "Submit|Start|End|AllocTRES")


def sacct_text(now: datetime) -> str:
    """Five jobs of two projects that ended in the last days: a failure, an OOM, a timeout, two completed."""
    def at(hours: float) -> str:
        return (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S")

    rows = [
        f"5001|train-a|project_2001234|gpu|FAILED|1:0|01:00:00|04:00:00|10|1|00:30:00|40G||{at(30)}|{at(29)}|{at(28)}|"
        "billing=10,cpu=10,gres/gpu=2,mem=40G,node=1",
        f"5001.batch|batch|project_2001234||FAILED|1:0|01:00:00||10|1|00:30:00||10G|{at(29)}|{at(29)}|{at(28)}|",
        f"5002|prep|project_2001234|small|OUT_OF_MEMORY|0:125|00:10:00|01:00:00|4|1|00:09:00|8G||{at(20)}|{at(20)}|"
        f"{at(19.8)}|billing=4,cpu=4,mem=8G,node=1",
        f"5002.batch|batch|project_2001234||OUT_OF_MEMORY|0:125|00:10:00||4|1|00:09:00||9G|{at(20)}|{at(20)}|"
        f"{at(19.8)}|",
        f"5003|eval|project_2001234|small|COMPLETED|0:0|10:00:00|10:00:00|40|1|10:00:00|100G||{at(12)}|{at(11)}|"
        f"{at(1)}|billing=40,cpu=40,mem=100G,node=1",
        f"5003.batch|batch|project_2001234||COMPLETED|0:0|10:00:00||40|1|10:00:00||5G|{at(11)}|{at(11)}|{at(1)}|",
        f"6001|sim|project_2005678|small|TIMEOUT|0:0|02:00:00|02:00:00|8|1|01:59:00|16G||{at(50)}|{at(50)}|{at(48)}|"
        "billing=8,cpu=8,mem=16G,node=1",
        f"6002|sim2|project_2005678|small|COMPLETED|0:0|08:00:00|48:00:00|2|1|00:10:00|4G||{at(40)}|{at(40)}|"
        f"{at(32)}|billing=2,cpu=2,mem=4G,node=1",
        f"6002.batch|batch|project_2005678||COMPLETED|0:0|08:00:00||2|1|00:10:00||1G|{at(40)}|{at(40)}|{at(32)}|",
    ]
    return "\n".join([FIELDS, *rows]) + "\n"


def configured(settings: Settings, **env: str) -> Settings:
    values = {"STORE": "local", "LOCAL_STORE_PATH": str(settings.local_store_path),
              "DASHBOARD_URL": "https://monitor.example.org", "NOTIFY_CLAIM_SETTLE_SECONDS": "0.3",
              "NOTIFY_RETRY_SECONDS": "0", "NOTIFY_TIMEOUT_SECONDS": "3", **env}
    return load_settings(None, values)


def receivers_env(hook: Webhook, box: Mailbox) -> dict[str, str]:
    return {"NOTIFY_WEBHOOK_URL": hook.url, "NOTIFY_SMTP_HOST": box.host, "NOTIFY_SMTP_PORT": str(box.port),
            "NOTIFY_SMTP_USER": box.user, "NOTIFY_SMTP_PASSWORD": box.password, "NOTIFY_SMTP_CAFILE": box.cafile,
            "NOTIFY_EMAIL_FROM": "monitor@example.org", "NOTIFY_EMAIL_TO": "ops@example.org"}


@pytest.fixture()
def stored(store: LocalStore, settings: Settings) -> datetime:
    now = datetime.now(UTC)
    parsed = upload.parse_upload(sacct_text(now), settings)
    upload.store_run(store, settings, "mahti-week", parsed, platform="mahti")
    return now


def run(store: LocalStore, settings: Settings) -> notify.Report:
    return notify.notify(store, settings, datetime.now(UTC), notify.channels(settings))


def test_each_failed_job_is_sent_once_to_the_webhook_and_by_mail_with_its_link(
        store: LocalStore, settings: Settings, stored: datetime, tmp_path: Path) -> None:
    with webhook_receiver() as hook, smtp_receiver(tmp_path) as box:
        s = configured(settings, **receivers_env(hook, box))
        first = run(store, s)
        assert first.failures == [] and first.problems == []
        assert len(first.sent) == 6  # three failed jobs × two channels
        texts = [p["text"] for p in hook.payloads()]
        assert len(texts) == 3
        oom = next(t for t in texts if "OUT_OF_MEMORY" in t)
        assert oom.splitlines()[0] == "OUT_OF_MEMORY: job 5002 (prep) in user-example-com-mahti-week on mahti"
        assert "ended OUT_OF_MEMORY after 00:10:00" in oom
        assert "Job page: https://monitor.example.org/job?job=5002&run=user-example-com-mahti-week" in oom
        assert {m["Subject"].strip() for m in box.mails()} == {t.splitlines()[0] for t in texts}
        assert all("https://monitor.example.org/job?job=" in m.get_content() for m in box.mails())
        # A second run (a restart, the next cron run) sends nothing.
        second = run(store, s)
        assert second.sent == [] and second.already == 6
        assert len(hook.payloads()) == 3 and len(box.messages) == 3


def test_two_concurrent_runs_send_each_item_once(store: LocalStore, settings: Settings, stored: datetime,
                                                 tmp_path: Path) -> None:
    with webhook_receiver() as hook, smtp_receiver(tmp_path) as box:
        s = configured(settings, **receivers_env(hook, box))
        start = threading.Barrier(2)
        reports: list[notify.Report] = []

        def replica() -> None:
            own = LocalStore(s.local_store_path)  # a second process or replica: its own store object
            start.wait()
            reports.append(run(own, s))

        threads = [threading.Thread(target=replica) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(len(r.sent) for r in reports) == 6
    subjects = [p["text"].splitlines()[0] for p in hook.payloads()]
    assert len(subjects) == len(set(subjects)) == 3
    assert len({m["Subject"].strip() for m in box.mails()}) == len(box.messages) == 3


def test_past_the_hourly_limit_the_rest_come_as_one_digest_then_wait(store: LocalStore, settings: Settings,
                                                                     stored: datetime) -> None:
    with webhook_receiver() as hook:
        s = configured(settings, NOTIFY_WEBHOOK_URL=hook.url, NOTIFY_MAX_PER_HOUR="2")
        report = run(store, s)
        texts = [p["text"] for p in hook.payloads()]
        assert len(texts) == 2
        assert texts[1].startswith("2 more items need attention (hourly message limit reached)")
        assert texts[1].count("https://monitor.example.org/job?job=") == 2
        assert [len(m.keys) for m in report.sent] == [1, 2]
        # Everything was sent (one of them in the digest): a new failure now waits for the next hour.
        bucket = "mlch-sub-air-user-example-com"
        assert run(store, s).sent == []
        store.put_object(bucket, "MANAGEMENT/1.json", dump_management(_stuck_pipeline()))
        later = notify.notify(store, s, datetime.now(UTC) + timedelta(hours=3), notify.channels(s))
        assert later.sent == [] and later.held == {"webhook": 1}
    assert len(hook.payloads()) == 2


def _stuck_pipeline() -> dict[str, object]:
    from core.demo import demo_orchestration

    content = load_management(dump_management(demo_orchestration(3)))  # the demo's run under way: active jobs
    assert isinstance(content, dict)
    return content


def test_a_failing_receiver_leaves_items_unsent_and_the_next_run_sends_them(
        store: LocalStore, settings: Settings, stored: datetime) -> None:
    with webhook_receiver(statuses=[503] * 9) as hook:
        s = configured(settings, NOTIFY_WEBHOOK_URL=hook.url, NOTIFY_ATTEMPTS="3")
        report = run(store, s)
        assert report.sent == [] and len(report.failures) == 3
        assert report.failures[0] == "not sent (1 item): webhook at 127.0.0.1: HTTP 503 Service Unavailable " \
                                     "after 3 attempts"
        assert len(hook.requests) == 9  # three attempts per message, no more
        again = run(store, s)  # the receiver is back
        assert len(again.sent) == 3 and again.failures == []
    assert len(hook.payloads()) == 3


def test_dry_run_sends_and_records_nothing(store: LocalStore, settings: Settings, stored: datetime) -> None:
    with webhook_receiver() as hook:
        s = configured(settings, NOTIFY_WEBHOOK_URL=hook.url)
        dry = notify.notify(store, s, datetime.now(UTC), notify.channels(s), dry_run=True)
        assert len(dry.sent) == 3 and hook.requests == []
        assert len(run(store, s).sent) == 3


def test_stuck_pipelines_and_quotas_are_items_with_their_management_links(
        store: LocalStore, settings: Settings) -> None:
    content = _stuck_pipeline()
    workspaces = content["platforms"]["lumi"]["properties"]["workspaces"]  # type: ignore[index]
    workspaces[0].update({"used-capacity": "21G", "max-capacity": "22G", "used-capacity-bytes": None,
                          "max-capacity-bytes": None})
    store.put_object("mlch-sub-air-user-example-com", "MANAGEMENT/1.json", dump_management(content))
    from core.services import overview

    s = configured(settings)
    view = overview.build_overview(store, s, datetime.now(UTC) + timedelta(hours=3))
    items = notify.attention_items(view, s)
    kinds = {item.kind: item for item in items}
    assert set(kinds) == {"stuck pipeline", "quota"}
    stuck = kinds["stuck pipeline"]
    assert stuck.subject.startswith("Stuck pipeline: multi-cloud-hpc-integration (MANAGEMENT/1.json), no change for")
    assert stuck.link == ("Management object",
                          "https://monitor.example.org/management?object=MANAGEMENT%2F1.json")
    quota = kinds["quota"]
    assert quota.subject == "Quota: /users/virtanem on lumi over 90 % (capacity)"
    assert "capacity used 95%" in quota.body
    assert quota.link[1] == "https://monitor.example.org/management?platform=lumi"


def test_weekly_digest_per_project_is_sent_once_a_day(store: LocalStore, settings: Settings, stored: datetime,
                                                      tmp_path: Path) -> None:
    with webhook_receiver() as hook, smtp_receiver(tmp_path) as box:
        s = configured(settings, **receivers_env(hook, box), BUDGET_CSC_CPU_BU="1000")
        report = digest.send_digests(store, s, datetime.now(UTC), notify.channels(s))
        assert report.failures == [] and len(report.sent) == 4  # two projects × two channels
        again = digest.send_digests(store, s, datetime.now(UTC), notify.channels(s))
        assert again.sent == [] and again.already == 4
    texts = {p["text"].split(":")[0]: p["text"] for p in hook.payloads()}
    week = texts["Week of project project_2001234"]
    assert "3 jobs, 2 failed" in week
    # 10 cores × 1 h + 4 × 10 min + 40 × 10 h; GPUs: 2 × 1 h of job 5001.
    assert ("- mahti: 3 jobs, 2 failed, 410.7 core-hours, 2.0 GPU-hours, billed 400.7 CSC CPU BU for 2 of its jobs"
            in week)  # job 5001 ran in a partition Mahti does not have ("gpu"): no rate
    assert "costliest findings:" in week and "Advice:" in week
    assert "Budget (BUDGET_* allocations against every stored run):\n- CSC CPU BU: " in week
    assert "SACCT: https://monitor.example.org/sacct?runs=user-example-com-mahti-week" in week
    assert week.count("Job 5003: https://monitor.example.org/job?job=5003&run=user-example-com-mahti-week") == 1
    other = texts["Week of project project_2005678"]
    assert "2 jobs, 1 failed" in other and "0.0 GPU-hours" in other
    assert len(box.messages) == 2
    time.sleep(0)


IDLE_GPU = ("JobID|JobName|Partition|State|Elapsed|Timelimit|AllocCPUS|NNodes|TotalCPU|AllocTRES|TRESUsageInAve|"
            "TRESUsageInMax|End\n"
            "11|idle|gpu|COMPLETED|02:00:00|04:00:00|10|1|01:00:00|cpu=10,gres/gpu:v100=1,gres/gpu=1,mem=64G,node=1"
            "|||{end}\n"
            "11.batch|batch||COMPLETED|02:00:00||10|1|01:00:00|cpu=10,gres/gpu:v100=1,gres/gpu=1,mem=64G|"
            "gres/gpuutil=0,gres/gpumem=0|gres/gpuutil=0,gres/gpumem=0|{end}\n")


def test_idle_gpus_and_a_budget_running_out_are_items_sent_once(store: LocalStore, settings: Settings) -> None:
    end = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")
    upload.store_run(store, settings, "puhti-gpu", upload.parse_upload(IDLE_GPU.format(end=end), settings),
                     platform="puhti")
    with webhook_receiver() as hook:
        s = configured(settings, NOTIFY_WEBHOOK_URL=hook.url, BUDGET_CSC_GPU_BU="100")
        report = run(store, s)
        assert report.failures == [] and len(report.sent) == 2
        assert run(store, s).sent == []
    texts = [p["text"] for p in hook.payloads()]
    idle = next(t for t in texts if t.startswith("Idle GPUs"))
    assert idle.splitlines()[0] == "Idle GPUs: job 11 (idle) in user-example-com-puhti-gpu"
    assert "0 % use recorded (gres/gpuutil)" in idle and "Advice: check that the program found its GPUs" in idle
    assert "Job page: https://monitor.example.org/job?job=11&run=user-example-com-puhti-gpu" in idle
    budget = next(t for t in texts if t.startswith("Budget"))
    assert budget.splitlines()[0] == "Budget: CSC GPU BU used up"
    assert "Overview (spend and budget): https://monitor.example.org/overview" in budget
