"""``hpc-monitor``: store sacct output and list storage from a shell, e.g. a cron job on a login node.

Same settings as the dashboard (``.env`` in the working directory, then ``STORE``, ``LOCAL_STORE_PATH`` and the
``CSC_*`` variables, ``CSC_PASSWORD`` included), same parser, same versioned store and same messages as the pages::

    sacct --parsable2 -S 2024-05-01 | hpc-monitor upload-sacct - --run mahti-may --platform mahti
    hpc-monitor upload-sacct sacct.txt --run mahti-may --new-version
    hpc-monitor ls                        # buckets
    hpc-monitor ls mlch-for-air/ARTIFACTS/SACCT/
    sacct -P -o JobID,JobName,Partition,State,Elapsed,AllocCPUS,NNodes,AllocTRES,TRESUsageInAve,TRESUsageInMax \
        -S 2024-05-01 | hpc-monitor jobs - --platform puhti --format table   # one row per job, as reportseff
    hpc-monitor notify                    # what needs attention, each new item once (cron, after collect)
    hpc-monitor notify --digest           # the week per project

Results go to stdout, progress on large input and warnings to stderr. Bad input or a storage failure ends with one
line on stderr and exit status 1 (2 for a wrong command line); no traceback, no secret.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import BinaryIO, TextIO, cast
from zoneinfo import ZoneInfo

import pandas as pd

from core.auth import Credentials
from core.errors import Conflict, InputTooLarge, InvalidInput, MonitorError, failure_message
from core.platforms import PLATFORMS
from core.sacct import ParsedSacct
from core.services import buckets, collect, digest, history, jobs_report, notify, upload
from core.settings import Settings, load_settings
from core.store.base import ObjectStore
from core.store.local import LocalStore
from core.store.swift import SwiftStore
from core.text import terminal_plain
from core.units import iec_size

PROG = "hpc-monitor"
#: Input at least this large reports its progress on stderr.
PROGRESS_BYTES = 8 * 1024 * 1024
#: Read size for files and stdin.
CHUNK = 1024 * 1024
#: Warnings printed in full; the rest are counted.
SHOWN_WARNINGS = 20
#: The same words as the upload page's messages.
NOT_ACCEPTED = "The sacct input was not accepted"
NOT_STORED = "Could not store the run"
NOT_LISTED = "Could not list"
NOT_COLLECTED = "Could not collect"


class CommandFailed(Exception):
    """A failure already worded for the user: printed as one line, exit status 1."""


class _TerminalText(io.TextIOBase):
    """A text stream that writes everything through :func:`core.text.terminal_plain`.

    Every message, warning, log line and listing of the command goes through it, so no name from a file or storage
    reaches the terminal raw.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.stream.write(terminal_plain(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _one_line(text: str) -> str:
    return " ".join(terminal_plain(text).split())  # a carriage return in a name is shown, not taken as a space


def open_store(settings: Settings) -> ObjectStore:
    """The store the settings name: the LocalStore directory, or Swift signed in with the ``CSC_*`` credentials."""
    if settings.store == "local":
        return LocalStore(settings.local_store_path)
    return SwiftStore.from_credentials(Credentials.from_settings(settings))


class Progress:
    """Progress lines on stderr, only for input of at least :data:`PROGRESS_BYTES`."""

    def __init__(self, stream: TextIO, total: int | None) -> None:
        self.stream = stream
        self.total = total
        self.shown = total is not None and total >= PROGRESS_BYTES
        self.next_report = PROGRESS_BYTES
        self.began = time.monotonic()

    def read(self, done: int) -> None:
        """Report bytes read so far, every :data:`PROGRESS_BYTES`."""
        if done < self.next_report:
            return
        if not self.shown:
            self.shown = True  # stdin of unknown size turned out large
        self.next_report = done + PROGRESS_BYTES
        of = f" of {iec_size(self.total)}" if self.total else ""
        self.say(f"read {iec_size(done)}{of}")

    def say(self, message: str) -> None:
        """One progress line (with the time since the start) when the input is large."""
        if self.shown:
            print(f"{PROG}: {message} ({time.monotonic() - self.began:.1f} s)", file=self.stream, flush=True)


def _read_input(source: str, settings: Settings, stdin: BinaryIO, stderr: TextIO) -> tuple[bytes, str, Progress]:
    """The whole input, refused past UPLOAD_LIMIT_MB before more than the limit is held in memory."""
    limit = settings.upload_limit_bytes
    if source == "-":
        stream, name, total = stdin, "standard input", None
    else:
        try:
            stream = open(source, "rb")  # noqa: SIM115 -- closed below, after the size check
        except OSError as exc:
            raise CommandFailed(f"{NOT_ACCEPTED}: cannot read {source}: {exc.strerror or exc}") from None
        name = source
        try:
            total = int(stream.seek(0, 2))
            stream.seek(0)
        except OSError:  # a pipe or a device given by name
            total = None
    progress = Progress(stderr, total)
    parts: list[bytes] = []
    done = 0
    try:
        if total is not None:
            upload.check_size(total, settings)
        while chunk := stream.read(CHUNK):
            done += len(chunk)
            if done > limit:
                raise InputTooLarge(done, limit, "the sacct input")
            parts.append(chunk)
            progress.read(done)
    except OSError as exc:
        raise CommandFailed(f"{NOT_ACCEPTED}: cannot read {name}: {exc.strerror or exc}") from None
    finally:
        if stream is not stdin:
            stream.close()
    return b"".join(parts), name, progress


def upload_sacct(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO, stdin: BinaryIO) -> None:
    """Parse sacct output from a file or stdin and store it as the run's next version."""
    try:
        run = upload.run_name(args.run)
        if args.platform is not None and args.platform.strip().lower() not in PLATFORMS:
            raise InvalidInput(f"platform {args.platform!r} is not one of {', '.join(PLATFORMS)}")
        data, source, progress = _read_input(args.file, settings, stdin, err)
        progress.say(f"parsing {iec_size(len(data))} from {source}")
        parsed = upload.parse_upload(data, settings, fields=upload.parse_fields(args.fields or ""),
                                     delimiter=upload.parse_delimiter(args.delimiter or ""), source=source)
        del data
    except MonitorError as exc:
        raise CommandFailed(failure_message(NOT_ACCEPTED, exc)) from None
    progress.say(f"parsed {len(parsed.frame):,} rows ({parsed.format})")
    for warning in parsed.warnings[:SHOWN_WARNINGS]:
        print(f"{PROG}: warning: line {warning.line}: {_one_line(warning.message)}", file=err)
    if len(parsed.warnings) > SHOWN_WARNINGS:
        print(f"{PROG}: warning: {len(parsed.warnings) - SHOWN_WARNINGS} more lines need attention", file=err)
    try:
        store = open_store(settings)
        progress.say("storing")
        saved = upload.store_run(store, settings, run, parsed, replace=args.new_version, platform=args.platform)
    except Conflict as exc:
        raise CommandFailed(f"{NOT_STORED}: run {run!r} is already stored ({exc.bucket}/{exc.obj}); --new-version "
                            "stores it again as a new version and keeps the earlier ones") from None
    except MonitorError as exc:
        raise CommandFailed(failure_message(NOT_STORED, exc)) from None
    count = len(parsed.warnings)
    warned = "no warnings" if count == 0 else f"{count:,} warning{'s' if count > 1 else ''}"
    print(f"Stored {saved.bucket}/{saved.object} as version {saved.version} ({saved.rows:,} rows, {parsed.format}, "
          f"{warned}).", file=out)


def _stored(args: argparse.Namespace, settings: Settings) -> ParsedSacct:
    """The stored history's rows as a parse (``jobs --stored``): one cluster, from a date on, when asked."""
    zone = ZoneInfo(settings.sacct_timezone)
    try:
        since = _moment(args.since, zone, "--since")
        store = open_store(settings)
        rows = history.stored_rows(store, settings, cluster=args.cluster, since=since)
    except CommandFailed as exc:
        raise CommandFailed(str(exc).replace(NOT_COLLECTED, "Could not read the history")) from None
    except (MonitorError, ValueError) as exc:
        raise CommandFailed(failure_message("Could not read the history", exc)) from None
    return ParsedSacct(rows, [], "history")


def report_jobs(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO, stdin: BinaryIO) -> None:
    """One row per job of a sacct output with the SACCT table's figures: table, CSV or JSON on stdout."""
    if args.stored:
        parsed = _stored(args, settings)
    else:
        if args.cluster is not None or args.since is not None:
            raise CommandFailed("--cluster and --since choose jobs of the stored history: add --stored")
        try:
            if args.platform is not None and args.platform.strip().lower() not in PLATFORMS:
                raise InvalidInput(f"platform {args.platform!r} is not one of {', '.join(PLATFORMS)}")
            data, source, _ = _read_input(args.file, settings, stdin, err)
            parsed = upload.parse_upload(data, settings, fields=upload.parse_fields(args.fields or ""),
                                         delimiter=upload.parse_delimiter(args.delimiter or ""), source=source)
        except MonitorError as exc:
            raise CommandFailed(failure_message(NOT_ACCEPTED, exc)) from None
        if not upload.has_job_ids(parsed):
            raise CommandFailed(upload.NO_JOB_IDS)
    for warning in parsed.warnings[:SHOWN_WARNINGS]:
        print(f"{PROG}: warning: line {warning.line}: {_one_line(warning.message)}", file=err)
    platform = args.platform.strip().lower() if args.platform else None
    rows = jobs_report.report_rows(jobs_report.parsed_jobs(parsed, settings, platform), settings)
    if args.format == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
    elif args.format == "csv":
        out.write(jobs_report.csv_frame(rows).to_csv(index=False))
    else:
        for line in jobs_report.table_lines(rows):
            print(line, file=out)


def _when(value: object, zone: ZoneInfo) -> str:
    if not isinstance(value, datetime) or pd.isna(value):
        return "-"
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")


def list_storage(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO, stdin: BinaryIO) -> None:
    """Buckets with their counts, or the folders and objects under ``BUCKET/PREFIX``, one per line."""
    zone = ZoneInfo(settings.sacct_timezone)
    target = args.target or ""
    bucket, _, prefix = target.partition("/")
    try:
        store = open_store(settings)
        if not bucket:
            table = buckets.bucket_table(store)
            for name, count, size in zip(table["bucket"], table["objects"], table["size"], strict=True):
                shown = iec_size(None if pd.isna(size) else size)
                print(f"{name}\t{'-' if pd.isna(count) else f'{count:,}'} objects\t{shown}", file=out)
            return
        marker: str | None = None
        while True:
            page = buckets.browse(store, bucket, prefix, marker)
            for folder in page.folders:
                print(f"{'-':>10}\t{'-':19}\t{prefix}{folder}", file=out)
            objects = page.objects
            for name, size, modified in zip(objects["object"], objects["size"], objects["last modified"], strict=True):
                print(f"{iec_size(None if pd.isna(size) else size):>10}\t{_when(modified, zone):19}\t{name}", file=out)
            if page.next_marker is None:
                break
            marker = page.next_marker
    except MonitorError as exc:
        raise CommandFailed(failure_message(f"{NOT_LISTED} {target or 'buckets'}", exc)) from None


def _moment(text: str | None, zone: ZoneInfo, option: str) -> float | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]`` in the cluster's zone, as epoch seconds."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandFailed(f"{NOT_COLLECTED}: {option} {text!r} is not a date (YYYY-MM-DD or "
                            "YYYY-MM-DDTHH:MM:SS)") from None
    return (when if when.tzinfo else when.replace(tzinfo=zone)).timestamp()


def _names(values: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(sorted({n.strip() for v in values or () for n in v.split(",") if n.strip()}))


def collect_history(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO, stdin: BinaryIO) -> None:
    """Pull accounting from sacct (or read it from --from) into the history dataset."""
    zone = ZoneInfo(settings.sacct_timezone)
    window = settings.collect.window_days if args.window_days is None else args.window_days
    overlap = settings.collect.overlap_minutes if args.overlap_minutes is None else args.overlap_minutes
    if window <= 0 or overlap < 0:
        raise CommandFailed(f"{NOT_COLLECTED}: --window-days must be above 0 and --overlap-minutes at least 0")
    if args.source is not None:
        try:
            data, source, progress = _read_input(args.source, settings, stdin, err)
            store = open_store(settings)
            progress.say(f"merging {iec_size(len(data))} from {source}")
            merged = collect.merge_text(store, settings, data, cluster=args.cluster)
        except (MonitorError, ValueError) as exc:
            raise CommandFailed(failure_message(NOT_COLLECTED, exc)) from None
        print(f"Merged {source} into the history: {merged.text()}.", file=out)
        return
    try:
        cluster = args.cluster or collect.cluster_of_slurm()
        options = collect.CollectOptions(
            cluster=cluster, since=_moment(args.since, zone, "--since"), until=_moment(args.until, zone, "--until"),
            accounts=_names(args.account), users=_names(args.user), window_seconds=window * 86_400,
            overlap_seconds=overlap * 60, json=args.json, first_days=settings.collect.first_days)
        store = open_store(settings)
        report = collect.collect(store, settings, options,
                                 progress=lambda line: print(f"{PROG}: {line}", file=err, flush=True))
    except (MonitorError, ValueError) as exc:
        raise CommandFailed(failure_message(NOT_COLLECTED, exc)) from None
    print(report.text(zone), file=out)


def send_notifications(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO,
                       stdin: BinaryIO) -> None:
    """Send what needs attention (or, with --digest, the week per project) to the configured channels."""
    targets = notify.channels(settings)
    if not targets:
        if not args.dry_run:
            raise CommandFailed("no channel to send to: set NOTIFY_WEBHOOK_URL, or NOTIFY_SMTP_HOST and "
                                "NOTIFY_EMAIL_TO (--dry-run shows what would be sent)")
        targets = [notify.Channel("no channel configured", lambda message: None)]
    now = datetime.now(UTC)
    what = "the weekly digest" if args.digest else "notifications"
    try:
        store = open_store(settings)
        if args.digest:
            report = digest.send_digests(store, settings, now, targets, dry_run=args.dry_run)
        else:
            report = notify.notify(store, settings, now, targets, dry_run=args.dry_run)
    except (MonitorError, ValueError) as exc:
        raise CommandFailed(failure_message(f"Could not send {what}", exc)) from None
    for problem in report.problems:
        print(f"{PROG}: warning: {_one_line(problem)}", file=err)
    for message in report.sent:
        if args.dry_run:
            count = len(message.keys)
            print(f"--- would send to {message.channel} ({count} item{'s' if count != 1 else ''})", file=out)
            print(message.message.text(), file=out)
        else:
            print(f"Sent to {message.channel}: {_one_line(message.message.subject)}", file=out)
    for channel, held in report.held.items():
        print(f"{PROG}: {held} new item{'s' if held != 1 else ''} for {channel} held: NOTIFY_MAX_PER_HOUR "
              f"({settings.notify.max_per_hour}) messages were sent in the last hour", file=err)
    for channel, late in report.late.items():
        print(f"{PROG}: {late} item{'s' if late != 1 else ''} for {channel} left for the next run: storage took "
              f"longer than half of NOTIFY_CLAIM_SETTLE_SECONDS ({settings.notify.claim_settle_seconds:g} s) to "
              "record the claim", file=err)
    verb = "would be sent" if args.dry_run else "sent"
    print(f"{len(report.sent)} message{'s' if len(report.sent) != 1 else ''} {verb}, {report.already} item"
          f"{'s' if report.already != 1 else ''} sent before.", file=out)
    for failure in report.failures:
        print(f"{PROG}: {_one_line(failure)}", file=err)
    if report.failures:
        raise CommandFailed(f"{len(report.failures)} message{'s' if len(report.failures) != 1 else ''} not "
                            "delivered; their items stay unsent for the next run")


Command = Callable[[argparse.Namespace, Settings, TextIO, TextIO, BinaryIO], None]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Store and report sacct output and list storage with the dashboard's settings (.env, "
                     "CSC_*).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("upload-sacct", help="parse sacct output and store it as a run's next version",
                             description="Parse sacct output (fixed width, --parsable, --parsable2, --json) and "
                                         "store it as ARTIFACTS/SACCT/<user>-<run>.parquet in the forwarder bucket.")
    up.add_argument("file", metavar="FILE|-", help="the sacct output; - reads standard input")
    up.add_argument("--run", required=True, help="the run name (letters, digits, '.', '_', '-')")
    up.add_argument("--platform", help=f"the platform when sacct printed no Cluster: {', '.join(PLATFORMS)}")
    up.add_argument("--fields", help="the field list of --noheader output, e.g. JobID,State,Elapsed")
    up.add_argument("--delimiter", help="sacct's --delimiter for headerless output (\\t or tab for a tab); "
                                        "a header line's own delimiter wins")
    up.add_argument("--new-version", action="store_true",
                    help="store a new version when the run is already stored (earlier versions are kept)")
    up.set_defaults(handler=upload_sacct)
    jobs = commands.add_parser("jobs", help="one row per job of sacct output: efficiency, GPUs, billing, advice",
                               description="One row per job of sacct output (any format the upload reads) with the "
                                           "SACCT table's figures: CPU and memory efficiency, GPUs, GPU-hours, GPU "
                                           "use, what it was billed and in which pool, and the findings' advice. "
                                           "Platform: sacct's Cluster when printed, else --platform.")
    jobs.add_argument("file", metavar="FILE|-", nargs="?", default="-", help="the sacct output; - (the default) "
                                                                            "reads standard input")
    jobs.add_argument("--platform", help=f"the platform of jobs without a Cluster: {', '.join(PLATFORMS)} "
                                         "(default: DEFAULT_PLATFORM)")
    jobs.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    jobs.add_argument("--fields", help="the field list of --noheader output")
    jobs.add_argument("--delimiter", help="sacct's --delimiter for headerless output")
    jobs.add_argument("--stored", action="store_true",
                      help="the jobs of the stored history (hpc-monitor collect, uploads) instead of sacct output")
    jobs.add_argument("--cluster", help="with --stored: only this cluster")
    jobs.add_argument("--since", help="with --stored: jobs that started (else were submitted) from this date on "
                                      "(YYYY-MM-DD[THH:MM:SS], SACCT_TIMEZONE)")
    jobs.set_defaults(handler=report_jobs)
    co = commands.add_parser(
        "collect", help="pull accounting from sacct into the history (run it from cron or scrontab)",
        description="Pull the cluster's jobs since the last collection (a watermark per cluster in storage, less an "
                    "overlap) one window at a time, pull again the jobs that had not finished, and merge them into "
                    "ARTIFACTS/SACCT/history/cluster=<c>/month=<yyyy-mm>/. Running it again stores nothing new.")
    co.add_argument("--cluster", help="the cluster (sacct --clusters); default: ClusterName of scontrol show config")
    co.add_argument("--since", help="pull from this time (YYYY-MM-DD[THH:MM:SS], the cluster's zone) instead of "
                                    "the watermark")
    co.add_argument("--until", help="pull up to this time instead of now")
    co.add_argument("--account", action="append", help="only these accounts (repeat or comma-separate)")
    co.add_argument("--user", action="append", help="only these users (repeat or comma-separate)")
    co.add_argument("--window-days", type=float, help="one sacct call per window this long (COLLECT_WINDOW_DAYS, 1)")
    co.add_argument("--overlap-minutes", type=float,
                    help="pull again this much before the watermark, for late updates (COLLECT_OVERLAP_MINUTES, 60)")
    co.add_argument("--json", action="store_true", help="ask sacct for --json instead of --parsable2")
    co.add_argument("--from", dest="source", metavar="FILE|-",
                    help="merge sacct output from a file (or - for stdin) instead of calling sacct")
    co.set_defaults(handler=collect_history)
    ls = commands.add_parser("ls", help="list buckets, or the folders and objects under BUCKET/PREFIX")
    ls.add_argument("target", nargs="?", metavar="BUCKET[/PREFIX]")
    ls.set_defaults(handler=list_storage)
    note = commands.add_parser(
        "notify", help="send what needs attention (failed jobs, stuck pipelines, quotas) once per item",
        description="Evaluate what the Overview calls 'needs attention' and send each new item once to "
                    "NOTIFY_WEBHOOK_URL and/or by e-mail (NOTIFY_SMTP_*, NOTIFY_EMAIL_*). What was sent is kept "
                    "in storage, so a second run, a second replica or a restart sends nothing twice.")
    note.add_argument("--dry-run", action="store_true", help="print what would be sent; send and record nothing")
    note.add_argument("--digest", action="store_true",
                      help="send the last seven days per project instead (once per day and channel)")
    note.set_defaults(handler=send_notifications)
    return parser


def main(argv: Sequence[str] | None = None, *, stdin: BinaryIO | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run one command; returns the exit status (0 done, 1 bad input or storage failure, 2 wrong usage).

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).
        stdin: where ``-`` reads from (default: the process's binary stdin).
        stdout: where results go.
        stderr: where progress, warnings and the error line go.
    """
    out = cast(TextIO, _TerminalText(stdout or sys.stdout))
    err = cast(TextIO, _TerminalText(stderr or sys.stderr))
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(levelname)s %(name)s: %(message)s", stream=err)
    handler: Command = args.handler
    try:
        settings = load_settings()
        handler(args, settings, out, err, stdin or sys.stdin.buffer)
    except (CommandFailed, MonitorError) as exc:  # MonitorError here: settings that cannot be used
        print(f"{PROG}: error: {_one_line(str(exc))}", file=err)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing more was stored", file=err)
        return 130
    except Exception as exc:  # a bug, not bad input: still one line, never a traceback with its locals
        logging.getLogger(__name__).debug("unexpected failure", exc_info=True)
        print(f"{PROG}: error: unexpected {type(exc).__name__}: {_one_line(str(exc))}", file=err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
