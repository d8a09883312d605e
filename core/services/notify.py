"""Notifications: what the Overview says needs attention, sent once per item to a webhook and/or by e-mail.

An item (a failed job, a workspace over its quota, a stuck pipeline, ...) has a key that stays the same from one
run to the next. Each channel delivers an item once: a :class:`core.store.ledger.Ledger` under
``MANAGEMENT/notify/`` in the forwarder bucket remembers what was sent and makes two concurrent runs (two cron
jobs, two replicas) agree on who sends it. At most ``NOTIFY_MAX_PER_HOUR`` messages go to a channel per hour: when
more items are new, the last message of the hour is a digest of the rest. A message that could not be delivered
leaves its items unsent for the next run.

Items come from :data:`SOURCES`: functions of the Overview (:func:`core.services.overview.build_overview`) and
the settings. A new kind of attention on the Overview becomes a notification by adding its source there.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from core.delivery import DeliveryFailed, Message, SmtpServer, post_webhook, send_email
from core.naming import folder
from core.services import overview as overview_service
from core.services import sacct as sacct_service
from core.services import sacct_selection
from core.settings import Settings
from core.store.base import ObjectStore
from core.store.ledger import Claim, Ledger
from core.units import slurm_duration

#: Where the ledger of sent notifications lives in the forwarder bucket.
LEDGER_PREFIX = folder("mana", "notify")
#: Items listed by name in an hour's overflow digest (the rest are counted).
DIGEST_LISTED = 50
#: Active jobs named in a stuck pipeline's message.
STUCK_JOBS_LISTED = 10


class DashboardLinks:
    """URLs of the dashboard's views (the shapes ``dashboard/links.py`` reads), from ``DASHBOARD_URL``."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def _url(self, page: str, params: dict[str, str | list[str]]) -> str:
        query = urllib.parse.urlencode(params, doseq=True)
        return f"{self.base}/{page}" + (f"?{query}" if query else "")

    def job(self, job_id: str, run: str | None = None) -> str:
        """The job page of a job seen in a SACCT run."""
        return self._url("job", {"job": job_id, **({"run": run} if run else {})})

    def management(self, *, platform: str | None = None, obj: str | None = None) -> str:
        """Management, on a platform's tab or a given object."""
        params: dict[str, str | list[str]] = {
            key: value for key, value in (("object", obj), ("platform", platform)) if value}
        return self._url("management", params)

    def sacct(self, runs: Sequence[str] = ()) -> str:
        """SACCT on the given runs."""
        return self._url("sacct", {"runs": list(runs)} if runs else {})

    def overview(self) -> str:
        """The Overview."""
        return self._url("overview", {})


@dataclass(frozen=True)
class Item:
    """One thing that needs attention: ``key`` names it across runs (what is sent once), the rest is the message."""

    key: str
    kind: str
    subject: str
    body: str
    link: tuple[str, str]

    def message(self) -> Message:
        """The item as one message."""
        return Message(self.subject, self.body, (self.link,))


#: A source of items: the Overview, the settings, the links → items.
ItemSource = Callable[[overview_service.Overview, Settings, DashboardLinks], list[Item]]


def _when(epoch: object, zone: str) -> str | None:
    if epoch is None or pd.isna(epoch):
        return None
    return datetime.fromtimestamp(float(epoch), UTC).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")  # type: ignore[arg-type]


def _text(value: object, missing: str = "") -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return missing
    return " ".join(str(value).split())


def failed_job_items(view: overview_service.Overview, settings: Settings, links: DashboardLinks) -> list[Item]:
    """A failed, timed-out or out-of-memory job of the newest SACCT runs: one item per run and job."""
    items = []
    for job in view.failed_jobs.to_dict("records"):
        job_id, run, state = _text(job["job-id"]), _text(job["run"]), _text(job["state"], "unknown state")
        platform = _text(job["platform"], "unknown")
        name = _text(job["job-name"])
        named = f" ({name})" if name else ""
        ended = _when(job["end-time"], settings.sacct_timezone)
        elapsed = job["elapsed-seconds"]
        ran = f" after {slurm_duration(float(elapsed))}" if elapsed is not None and not pd.isna(elapsed) else ""
        body = (f"Job {job_id}{named} of SACCT run {run} on {platform} ended {state}{ran}"
                f"{f' at {ended}' if ended else ''}.")
        if state != "OUT_OF_MEMORY" and state in sacct_selection.FAILED_STATES:
            kind = state.lower().replace("_", " ")
        else:
            kind = "out of memory" if state == "OUT_OF_MEMORY" else "step out of memory"
            if state != "OUT_OF_MEMORY":
                body += " A step of it ran out of memory."
        items.append(Item(f"job:{run}:{job_id}", kind, f"{state}: job {job_id}{named} in {run} on {platform}", body,
                          ("Job page", links.job(job_id, run))))
    return items


def quota_items(view: overview_service.Overview, settings: Settings, links: DashboardLinks) -> list[Item]:
    """A workspace over ``QUOTA_ALERT_PERCENT`` of its capacity or files: one item per workspace and what is over."""
    items = []
    for space in view.quotas.to_dict("records"):
        platform, path, over = _text(space["platform"]), _text(space["path"]), _text(space["over"])
        used = [f"{what} used {float(value):.0%}" for what, value in
                (("capacity", space["capacity used"]), ("files", space["files used"]))
                if value is not None and not pd.isna(value)]
        project = _text(space["project"])
        body = (f"Workspace {path} on {platform}{f' (project {project})' if project else ''} is over "
                f"{settings.quota_alert_percent:g} % of its {over} quota: {', '.join(used)}.")
        items.append(Item(f"quota:{platform}:{path}:{over}", "quota",
                          f"Quota: {path} on {platform} over {settings.quota_alert_percent:g} % ({over})", body,
                          ("Management", links.management(platform=platform))))
    return items


def stuck_items(view: overview_service.Overview, settings: Settings, links: DashboardLinks) -> list[Item]:
    """A pipeline whose Management object has had active jobs and no change for too long: one item per stall."""
    items = []
    for stuck in view.stuck:
        hours, minutes = divmod(int(stuck.minutes), 60)
        jobs = stuck.active_jobs
        listed = [f"{_text(job.get('platform'))} job {_text(job.get('job id'), 'without id')} "
                  f"({_text(job.get('status'))})" for job in jobs.head(STUCK_JOBS_LISTED).to_dict("records")]
        more = f" and {len(jobs) - STUCK_JOBS_LISTED} more" if len(jobs) > STUCK_JOBS_LISTED else ""
        changed = stuck.last_changed.astimezone(ZoneInfo(settings.sacct_timezone)).strftime("%Y-%m-%d %H:%M %Z")
        body = (f"Pipeline {_text(stuck.name)} ({stuck.object}) has {len(jobs)} active jobs and has not changed "
                f"since {changed} ({hours} h {minutes:02d} min): {', '.join(listed)}{more}.")
        items.append(Item(f"stuck:{stuck.object}:{stuck.last_changed.astimezone(UTC).isoformat()}", "stuck pipeline",
                          f"Stuck pipeline: {_text(stuck.name)} ({stuck.object}), no change for {hours} h "
                          f"{minutes:02d} min", body, ("Management object", links.management(obj=stuck.object))))
    return items


#: Every kind of attention that becomes a notification, in the order items are sent.
SOURCES: tuple[ItemSource, ...] = (failed_job_items, stuck_items, quota_items)


def attention_items(view: overview_service.Overview, settings: Settings,
                    sources: Sequence[ItemSource] = SOURCES) -> list[Item]:
    """The items of every source, each key once."""
    links = DashboardLinks(settings.dashboard_url)
    items: dict[str, Item] = {}
    for source in sources:
        for item in source(view, settings, links):
            items.setdefault(item.key, item)
    return list(items.values())


#: Sends one message on a channel; raises DeliveryFailed.
Sender = Callable[[Message], None]


@dataclass(frozen=True)
class Channel:
    """A way messages leave: its name (part of the ledger's keys) and its sender."""

    name: str
    send: Sender


def channels(settings: Settings) -> list[Channel]:
    """The channels the settings configure.

    The webhook when ``NOTIFY_WEBHOOK_URL`` is set, e-mail when ``NOTIFY_SMTP_HOST`` and ``NOTIFY_EMAIL_TO`` are.
    """
    found: list[Channel] = []
    config = settings.notify
    timeout, attempts, backoff = config.timeout_seconds, config.attempts, config.retry_seconds
    if config.webhook_url is not None:
        url = config.webhook_url.get_secret_value()
        found.append(Channel("webhook", lambda message: post_webhook(url, message, timeout=timeout,
                                                                     attempts=attempts, backoff=backoff)))
    if config.smtp_host and config.recipients:
        server = SmtpServer(
            config.smtp_host, config.smtp_port, config.smtp_user,
            config.smtp_password.get_secret_value() if config.smtp_password else None,
            config.email_from, config.recipients, config.smtp_cafile)
        found.append(Channel("email", lambda message: send_email(server, message, timeout=timeout,
                                                                 attempts=attempts, backoff=backoff)))
    return found


def ledger(store: ObjectStore, settings: Settings) -> Ledger:
    """The ledger of sent notifications in the forwarder bucket."""
    return Ledger(store, sacct_service.forwarder_bucket(settings), LEDGER_PREFIX,
                  settle=settings.notify.claim_settle_seconds, lease=settings.notify.claim_lease_minutes * 60)


@dataclass(frozen=True)
class Outgoing:
    """One message for a channel and the items it carries."""

    channel: str
    message: Message
    keys: tuple[str, ...]


@dataclass
class Report:
    """What a notify run did.

    Messages sent (or, dry, that would be), items held back by the hourly limit, failures (one line each) and what
    could not be read.
    """

    sent: list[Outgoing] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    already: int = 0


def overflow_message(items: Sequence[Item], links: DashboardLinks) -> Message:
    """One message for the items past the hourly limit: each subject and link."""
    shown = items[:DIGEST_LISTED]
    lines = [f"- {item.subject}: {item.link[1]}" for item in shown]
    if len(items) > len(shown):
        lines.append(f"…and {len(items) - len(shown)} more.")
    noun = "item needs" if len(items) == 1 else "items need"
    return Message(f"{len(items)} more {noun} attention (hourly message limit reached)", "\n".join(lines),
                   (("Overview", links.overview()),))


def plan(items: Sequence[Item], budget: int, channel: str, links: DashboardLinks) -> tuple[list[Outgoing], int]:
    """The messages for ``items`` within ``budget`` messages: one each, or the last a digest of the rest.

    Returns the messages and how many items are held for a later hour (all of them when the budget is spent).
    """
    if budget <= 0:
        return [], len(items)
    if len(items) <= budget:
        return [Outgoing(channel, item.message(), (f"{channel}:{item.key}",)) for item in items], 0
    single = [Outgoing(channel, item.message(), (f"{channel}:{item.key}",)) for item in items[:budget - 1]]
    rest = items[budget - 1:]
    return [*single, Outgoing(channel, overflow_message(rest, links), tuple(f"{channel}:{i.key}" for i in rest))], 0


def notify(store: ObjectStore, settings: Settings, now: datetime, targets: Sequence[Channel], *,
           dry_run: bool = False, sources: Sequence[ItemSource] = SOURCES) -> Report:
    """Send each item that needs attention and was not sent before, once per channel (see the module docstring)."""
    report = Report()
    view = overview_service.build_overview(store, settings, now)
    report.problems.extend(view.problems)
    items = attention_items(view, settings, sources)
    links = DashboardLinks(settings.dashboard_url)
    book = ledger(store, settings)
    scan = book.scan()
    for channel in targets:
        keyed = {f"{channel.name}:{item.key}": item for item in items}
        done = book.done(keyed, scan)
        report.already += len(done)
        new = [item for key, item in keyed.items() if key not in done]
        budget = settings.notify.max_per_hour - book.messages_since(channel.name, 3600)
        if dry_run:
            outgoing, held = plan(new, budget, channel.name, links)
            report.sent.extend(outgoing)
            if held:
                report.held[channel.name] = held
            continue
        if not new:
            continue
        won = {claim.key: claim for claim in book.claim(keyed_key for keyed_key in keyed if keyed_key not in done)}
        mine = [item for key, item in keyed.items() if key in won]
        outgoing, held = plan(mine, budget, channel.name, links)
        if held:
            report.held[channel.name] = held
            for claim in won.values():
                book.release(claim)
            continue
        for message in outgoing:
            claims = [won[key] for key in message.keys]
            deliver(book, channel, message, claims, now, report)
    return report


def deliver(book: Ledger, channel: Channel, message: Outgoing, claims: list[Claim], now: datetime,
            report: Report) -> None:
    """Send one message; on success record its items as sent, on failure release them and report one line."""
    try:
        channel.send(message.message)
    except DeliveryFailed as exc:
        report.failures.append(f"not sent ({len(claims)} item{'s' if len(claims) != 1 else ''}): {exc}")
        for claim in claims:
            book.release(claim)
        return
    record = {"channel": channel.name, "sent": now.astimezone(UTC).isoformat(), "subject": message.message.subject}
    book.log_message(channel.name, {**record, "items": len(claims)})
    for claim in claims:
        book.complete(claim, record)
    report.sent.append(message)
