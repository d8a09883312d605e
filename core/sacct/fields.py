"""The sacct field catalogue (names, columns, units, kinds, "no value" tokens, states) and the parse results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import pandas as pd

# --- Field names --------------------------------------------------------------------------------------------------

#: Fields sacct can print (``sacct --helpformat``), in their canonical spelling.
KNOWN_FIELDS: tuple[str, ...] = (
    "Account", "AdminComment", "AllocCPUS", "AllocNodes", "AllocTRES", "AssocID", "AveCPU", "AveCPUFreq",
    "AveDiskRead", "AveDiskWrite", "AvePages", "AveRSS", "AveVMSize", "BlockID", "Cluster", "Comment", "Constraints",
    "ConsumedEnergy", "ConsumedEnergyRaw", "Container", "CPUTime", "CPUTimeRAW", "DBIndex", "DerivedExitCode",
    "Elapsed", "ElapsedRaw", "Eligible", "End", "ExitCode", "Extra", "FailedNode", "Flags", "GID", "Group", "JobID",
    "JobIDRaw", "JobName", "Layout", "Licenses", "MaxDiskRead", "MaxDiskReadNode", "MaxDiskReadTask", "MaxDiskWrite",
    "MaxDiskWriteNode", "MaxDiskWriteTask", "MaxPages", "MaxPagesNode", "MaxPagesTask", "MaxRSS", "MaxRSSNode",
    "MaxRSSTask", "MaxVMSize", "MaxVMSizeNode", "MaxVMSizeTask", "McsLabel", "MinCPU", "MinCPUNode", "MinCPUTask",
    "NCPUS", "NNodes", "NodeList", "NTasks", "Partition", "Planned", "PlannedCPU", "PlannedCPURAW", "Priority", "QOS",
    "QOSRAW", "Reason", "ReqCPUFreq", "ReqCPUFreqGov", "ReqCPUFreqMax", "ReqCPUFreqMin", "ReqCPUS", "ReqMem",
    "ReqNodes", "ReqTRES", "Reservation", "ReservationId", "Reserved", "ResvCPU", "ResvCPURAW", "Start", "State",
    "StdErr", "StdIn", "StdOut", "Submit", "SubmitLine", "Suspended", "SystemComment", "SystemCPU", "Timelimit",
    "TimelimitRaw", "TotalCPU",
    "TRESUsageInAve", "TRESUsageInMax", "TRESUsageInMaxNode", "TRESUsageInMaxTask", "TRESUsageInMin",
    "TRESUsageInMinNode", "TRESUsageInMinTask", "TRESUsageInTot", "TRESUsageOutAve", "TRESUsageOutMax",
    "TRESUsageOutMaxNode", "TRESUsageOutMaxTask", "TRESUsageOutMin", "TRESUsageOutMinNode", "TRESUsageOutMinTask",
    "TRESUsageOutTot", "UID", "User", "UserCPU", "WCKey", "WCKeyID", "WorkDir",
    # Printed by older Slurm releases, before TRES fields replaced them.
    "AllocGRES", "ReqGRES",
)
CANONICAL = {name.lower(): name for name in KNOWN_FIELDS}

#: The seed's unit suffixes (``metric_units`` in its ``parse_sacct_dict``).
UNIT_SUFFIXES: dict[str, str] = {
    "ave-cpu": "seconds", "ave-cpu-freq": "khz", "ave-disk-read": "bytes", "ave-disk-write": "bytes",
    "timelimit": "seconds", "elapsed": "seconds", "planned": "seconds", "planned-cpu": "seconds",
    "cpu-time": "seconds", "total-cpu": "seconds", "submit": "time", "start": "time", "end": "time",
}

DURATION_FIELDS = {"AveCPU", "Timelimit", "Elapsed", "Planned", "PlannedCPU", "CPUTime", "TotalCPU", "UserCPU",
                    "SystemCPU", "MinCPU", "Suspended", "Reserved", "ResvCPU"}
TIME_FIELDS = {"Submit", "Start", "End", "Eligible"}
BYTE_FIELDS = {"MaxRSS", "AveRSS", "MaxVMSize", "AveVMSize", "ReqMem", "AveDiskRead", "AveDiskWrite",
                "MaxDiskRead", "MaxDiskWrite"}
DECIMAL_FIELDS = {"AveCPUFreq", "ReqCPUFreq", "ReqCPUFreqMin", "ReqCPUFreqMax", "AvePages", "MaxPages",
                   "ConsumedEnergy", "ConsumedEnergyRaw", "CPUTimeRAW", "ElapsedRaw", "PlannedCPURAW", "ResvCPURAW"}
COUNT_FIELDS = {"AllocCPUS", "NCPUS", "ReqCPUS", "AllocNodes", "NNodes", "ReqNodes", "NTasks", "Priority", "UID",
                 "GID", "MaxRSSTask", "MaxVMSizeTask", "MaxDiskReadTask", "MaxDiskWriteTask", "MaxPagesTask",
                 "MinCPUTask", "TimelimitRaw", "AssocID", "QOSRAW", "WCKeyID"}

#: Printed values that mean "no value": they become null, never 0.
NULL_TOKENS = ("", "Unknown", "None", "UNLIMITED", "Partition_Limit", "INVALID", "None assigned", "(null)")

#: Slurm job states, used to expand fixed-width truncation (``CANCELLED+``).
JOB_STATES = ("BOOT_FAIL", "CANCELLED", "COMPLETED", "COMPLETING", "CONFIGURING", "DEADLINE", "FAILED", "NODE_FAIL",
              "OUT_OF_MEMORY", "PENDING", "PREEMPTED", "REQUEUED", "RESIZING", "REVOKED", "RUNNING", "SUSPENDED",
              "TIMEOUT", "REQUEUE_FED", "REQUEUE_HOLD", "SPECIAL_EXIT", "STOPPED", "SIGNALING", "STAGE_OUT")
#: Named steps, used to expand ``.ba+`` → ``batch``.
STEP_NAMES = ("batch", "extern", "interactive")


def kebab(name: str) -> str:
    """The seed's kebab-case conversion of a field name (``AveCPUFreq`` → ``ave-cpu-freq``)."""
    out: list[str] = []
    for i, char in enumerate(name):
        if char.isupper() and i > 0:
            prev_lower = name[i - 1].islower() or name[i - 1].isdigit()
            next_lower = i + 1 < len(name) and name[i + 1].islower()
            if prev_lower or (name[i - 1].isupper() and next_lower):
                out.append("-")
        out.append(char)
    return "".join(out).lower()


def canonical_field(name: str) -> str:
    """The canonical sacct spelling of a field name in any case (unknown names are kept)."""
    return CANONICAL.get(name.strip().lower(), name.strip())


def column_name(sacct_field: str) -> str:
    """The frame column of a sacct field: kebab case plus the seed's unit suffix where it has one."""
    base = kebab(canonical_field(sacct_field))
    suffix = UNIT_SUFFIXES.get(base)
    return f"{base}-{suffix}" if suffix else base


FIELD_OF_COLUMN = {column_name(f): f for f in KNOWN_FIELDS}


# --- Values cut by a fixed-width column -------------------------------------------------------------------------

#: Text fields pages group or filter jobs by, by their frame column: a value cut with "+" there can merge groups.
GROUPED_TEXT = {column_name(f): f for f in ("Account", "JobName", "Partition", "User", "Group", "QOS")}


def whole_values_hint(fields: Sequence[str]) -> str:
    """How to get values sacct's fixed-width columns would cut."""
    wide = ",".join(f"{f}%30" for f in fields)
    return f"For whole values run sacct -P (or widen the columns: --format=...,{wide})."


def cut_values(values: pd.Series) -> list[str]:
    """The distinct values that end in "+", sorted: what sacct's fixed-width output cut at the column's width."""
    return sorted({str(v) for v in values.dropna().unique() if str(v).endswith("+")})


def cut_text(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Per grouped text field (:data:`GROUPED_TEXT`) of ``frame``, its :func:`cut_values`."""
    out: dict[str, list[str]] = {}
    for column, f in GROUPED_TEXT.items():
        if column in frame.columns:
            cut = cut_values(frame[column])
            if cut:
                out[f] = cut
    return out


# --- Results ------------------------------------------------------------------------------------------------------


class ParseWarning(NamedTuple):
    """Something the parser skipped or could not read; ``line`` is 1-based in the input.

    A named tuple: a fixed-width parse can warn about hundreds of thousands of cut values, and tuples are made
    in bulk several times faster than dataclass instances.
    """

    line: int
    message: str


#: ``ParseWarning`` from a ``(line, message)`` pair, made in C (``ParseWarning._make`` runs Python per call).
new_warning = partial(tuple.__new__, ParseWarning)


@dataclass
class ParsedSacct:
    """The parsed table (one row per sacct record, in input order), the warnings and the detected format."""

    frame: pd.DataFrame
    warnings: list[ParseWarning] = field(default_factory=list)
    format: str = "parsable2"




def order_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``job-id`` and ``step`` first, the other columns in their order."""
    first = [c for c in ("job-id", "step") if c in frame.columns]
    if list(frame.columns[:len(first)]) == first:  # already so: the frame itself, not a copy of every column
        return frame
    return frame[first + [c for c in frame.columns if c not in first]]

