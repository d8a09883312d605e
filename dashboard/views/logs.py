"""Logs: a job's Slurm output, with search (hits in context, each linking to its line) and the tail."""

import streamlit as st

from core.services import logs as service
from core.services.jobs import JobKey
from core.services.times import pipeline_bucket
from dashboard import components, links

components.header("Logs", "Slurm job output from LOGS/ in the pipeline bucket.")
settings = components.settings()
view = links.ViewParams("logs", ("object", "line"), bound=("search", "tail"))
store = components.store()
bucket = pipeline_bucket(settings)

with components.guard(f"Could not list {bucket}/LOGS/"):
    refs = service.list_logs(store, settings)
if not refs:
    st.info(f"No logs in {bucket}/LOGS/ yet. The submitter copies slurm-<id>.out there when a job ends.")
    st.stop()
by_object = {r.object: r for r in refs}
chosen = view.get("object")
if chosen is not None and chosen not in by_object:
    links.stale("the log", [chosen], "the newest job's log")
    chosen = None
    view.set("line", None)
ref = by_object[chosen] if chosen is not None else refs[-1]
view.set("object", ref.object)

st.caption("Select a row to show that log.")
table = service.log_table(refs)
position = [r.object for r in refs].index(ref.object)
picked = components.dataframe(components.with_sizes(table), hide_index=True, width="stretch", on_select="rerun",
                              selection_mode="single-row", key=f"logs-{ref.object}",
                              selection_default={"selection": {"rows": [position]}},
                              height=min(35 * (len(table) + 1) + 3, 300))
if picked.selection.rows and picked.selection.rows[0] != position:
    view.set("object", refs[picked.selection.rows[0]].object)
    view.set("line", None)
    st.rerun()

st.text(f"{bucket}/{ref.object}")
if ref.kind != "file":
    st.page_link(links.JOB, label=f"Open job {ref.job_id}: its Management entry, sacct record and other logs",
                 icon=":material/work_history:", query_params=JobKey(ref.job_id).query_params())
with components.guard(f"Could not read {bucket}/{ref.object}"):
    text = components.cached_read(service.read_log_object, store, bucket, ref.object, ref.etag)
counts = service.highlights(text)
cols = st.columns(4)
cols[0].metric("Lines", f"{counts['lines']:,}")
cols[1].metric("Errors", counts["errors"])
cols[2].metric("Warnings", counts["warnings"])
cols[3].metric("Cancelled", counts["cancelled"])

query = st.text_input("Search", placeholder="e.g. error, CANCELLED, Traceback", key="search", bind="query-params",
                      persist_state="session")
if query:
    blocks = service.search_blocks(text, query)
    hits = [n for block in blocks for n in block.hit_lines]
    st.caption(f"{len(hits)} matching lines, two lines of context either side (hits marked with >)"
               + (f"; the first {service.MAX_BLOCKS} places" if len(blocks) == service.MAX_BLOCKS else ""))
    st.code("\n…\n".join(b.as_text() for b in blocks) or "(no match)", language=None, wrap_lines=True,
            height=360 if sum(len(b.lines) for b in blocks) > 16 else "content")
    if hits:
        lines = text.splitlines()
        hit_pick = components.dataframe({"line": hits, "text": [service.shown_line(lines[n - 1]) for n in hits]},
                                        hide_index=True, width="stretch", on_select="rerun",
                                        selection_mode="single-row", key=f"hits-{ref.object}-{query}",
                                        height=min(35 * (len(hits) + 1) + 3, 300))
        st.caption("Select a hit to show its line in context; the address then links to that line.")
        if hit_pick.selection.rows:
            view.set("line", str(hits[hit_pick.selection.rows[0]]))

line = view.get("line")
if line is not None:
    st.subheader(f"Line {line}" if line.isdigit() else "Line", divider="gray")
    around = service.window(text, int(line)) if line.isdigit() and 0 < int(line) <= counts["lines"] else None
    if around is None:
        links.stale("line", [line], "no line")
        view.set("line", None)
    else:
        st.code(around.as_text(), language=None, wrap_lines=True)

tail = st.slider("Tail: last lines", min_value=20, max_value=2000, value=200, step=20, key="tail",
                 bind="query-params", persist_state="session")
st.caption(f"The end of the log: its last {tail} lines, scrolled to the last one.")
with st.container(height=560, autoscroll=True):
    st.code(service.tail(text, tail), language=None, wrap_lines=True)
st.download_button("Download log", data=text.encode("utf-8"), file_name=ref.object.rsplit("/", 1)[-1],
                   icon=":material/download:")
