"""Every page, walked with hostile values in every field that reaches a Markdown-rendering Streamlit call (metric
labels, values and deltas, messages, captions, headers, tab, expander, radio and button labels): each one arrives
escaped, so no stage name, platform key, object name, URL value or uploaded file name renders as markup, an icon or
maths."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.demo import demo_orchestration, demo_times
from core.sacct import parse_sacct
from core.serialize import dump_management, frame_to_parquet
from core.store.local import LocalStore

OpenPage = Callable[..., AppTest]
FORWARDER, PIPELINE, SUBMITTER = "mlch-for-air", "mlch-pipe-user-example-com", "mlch-sub-air-user-example-com"
#: Bold, a colour directive, a link to an unused loopback address, a Material icon code, KaTeX and HTML.
HOSTILE = "**B** :red[R] [L](http://127.0.0.66:9/) :material/home: $x^2$ <b>H</b>"
#: The same for names that are also paths (no '//').
NAME = "**B** :red[R] [L](l.html) :material/home: $x^2$ <b>H</b>"
_RAW = ("**B**", ":red[R]", "[L](", ":material/home", "<b>H</b>")
_MATHS = re.compile(r"(?<!\\)\$x\^2")
#: Proto fields that Streamlit renders as Markdown (in every element that has them).
_MARKDOWN_FIELDS = {"label", "body", "delta", "help", "title", "captions", "delta_description", "content"}
#: Elements whose ``body`` is shown as plain text.
_PLAIN_ELEMENTS = {"text", "code", "exception"}


def _strings(message: Any, out: list[str]) -> None:
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            for item in (value if field.is_repeated else [value]):
                _strings(item, out)
        elif field.type == field.TYPE_STRING and field.name in _MARKDOWN_FIELDS:
            out.extend(value if field.is_repeated else [value])


def markdown_sources(at: AppTest) -> list[str]:
    """The Markdown source of every field the page renders as Markdown (radio options included)."""
    found: list[str] = []

    def walk(node: Any) -> Iterator[None]:
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(node, "type", None) not in _PLAIN_ELEMENTS:
            _strings(proto, found)
            if getattr(node, "type", None) == "radio":
                found.extend(proto.options)
        for child in getattr(node, "children", {}).values():
            yield from walk(child)
        yield None

    for _ in walk(at._tree):
        pass
    return found


def _assert_escaped(at: AppTest, where: str) -> None:
    assert not at.exception, f"{where}: {[e.value for e in at.exception]}"
    bad = [value for value in markdown_sources(at) if any(raw in value for raw in _RAW) or _MATHS.search(value)]
    assert bad == [], f"{where}: rendered as Markdown: {bad}"


@pytest.fixture()
def hostile_store(store_dir: Path) -> Path:
    store = LocalStore(store_dir)
    management = dump_management(demo_orchestration()).decode().replace('"puhti"', f'"{HOSTILE}"')
    store.put_object(SUBMITTER, "MANAGEMENT/orchestration.json", management.encode())
    store.put_object(SUBMITTER, f"MANAGEMENT/{NAME}.json", management.encode())
    for run, frame in demo_times().items():  # the slowest stage of every run is named with markup
        frame = frame.rename(index={frame["total"].idxmax(): HOSTILE})
        store.put_object(PIPELINE, f"TIMES/{run}.parquet", frame_to_parquet(frame))
    store.put_object(PIPELINE, f"TIMES/{NAME}.parquet", frame_to_parquet(frame))
    store.put_object(FORWARDER, f"{NAME}/x.txt", HOSTILE.encode())
    sacct = parse_sacct(f"JobID|JobName|State|Elapsed|Cluster|Account\n1|{HOSTILE}|COMPLETED|00:10:00|{NAME}|{NAME}\n")
    store.put_object(FORWARDER, f"ARTIFACTS/SACCT/zz-{NAME}.parquet", frame_to_parquet(sacct.frame),
                     metadata={"version": 1, "platform": HOSTILE, "cluster": HOSTILE, "rows": 1})
    store.put_object(PIPELINE, f"LOGS/slurm-77_{NAME}.out", HOSTILE.encode())
    return store_dir


PAGES = ["views/overview.py", "views/buckets.py", "views/management.py", "views/pipeline.py", "views/times.py",
         "views/sacct.py", "views/history.py", "views/upload.py", "views/logs.py", "views/job.py", "views/sign_in.py"]
PARAMETERS = ("bucket", "object", "prefix", "platform", "run", "runs", "job", "line", "view", "tab", "state",
              "cluster", "user", "search", "kind", "stage", "folder", "page")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_hostile_stored_values_as_text(hostile_store: Path, open_page: OpenPage, page: str) -> None:
    at = open_page(page)
    _assert_escaped(at, page)
    if page == "views/times.py":
        assert "Slowest stage (most runs)" in [m.label for m in at.metric]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_hostile_url_values_as_text(hostile_store: Path, open_page: OpenPage, page: str) -> None:
    at = open_page(page, params=dict.fromkeys(PARAMETERS, HOSTILE))
    _assert_escaped(at, page)


def test_the_objects_named_with_markup_are_text_when_opened(hostile_store: Path, open_page: OpenPage) -> None:
    for page, params in (("views/buckets.py", {"bucket": FORWARDER, "object": f"{NAME}/x.txt"}),
                         ("views/buckets.py", {"bucket": FORWARDER, "prefix": f"{NAME}/"}),
                         ("views/times.py", {"runs": NAME}),
                         ("views/sacct.py", {"runs": f"zz-{NAME}"}),
                         ("views/management.py", {"object": f"MANAGEMENT/{NAME}.json", "platform": HOSTILE}),
                         ("views/pipeline.py", {"object": f"MANAGEMENT/{NAME}.json", "compare": "MANAGEMENT/1.json"}),
                         ("views/pipeline.py", {"object": "MANAGEMENT/1.json", "compare": f"MANAGEMENT/{NAME}.json"}),
                         ("views/logs.py", {"object": f"LOGS/slurm-77_{NAME}.out"}),
                         ("views/job.py", {"job": "21538077", "platform": HOSTILE}),
                         ("views/job.py", {"job": "77"})):
        at = open_page(page, params=params)
        _assert_escaped(at, f"{page} {params}")
        if page == "views/job.py" and params["job"] == "21538077":
            assert [m.value for m in at.metric if m.label == "Platform"], "the job's Management entry is shown"


def test_an_uploaded_file_name_is_text_in_the_upload_page(store_dir: Path, open_page: OpenPage) -> None:
    at = open_page("views/upload.py")
    sacct = b"JobID|JobName|State|Elapsed\n1|train|COMPLETED|00:10:00\n"
    at.file_uploader(key="upload_file").set_value((f"{NAME}.txt", sacct, "text/plain")).run()
    at.text_area[0].set_value(sacct.decode()).run()
    _assert_escaped(at, "upload with a file and pasted text")
    assert at.radio, "the page asks which input to parse"
