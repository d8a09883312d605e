"""Logs: a job's Slurm output, with search and tail."""

import streamlit as st

from core.services import logs as service
from core.services.times import pipeline_bucket
from dashboard import components

components.header("Logs", "Slurm job output from LOGS/ in the pipeline bucket.")
settings = components.settings()
store = components.store()
bucket = pipeline_bucket(settings)

with components.guard(f"Could not list {bucket}/LOGS/"):
    refs = service.list_logs(store, settings)
if not refs:
    st.info(f"No logs in {bucket}/LOGS/ yet. The submitter copies slurm-<id>.out there when a job ends.")
    st.stop()
labels = {r.label: r for r in refs}
ref = labels[st.selectbox("Job", list(labels), index=len(labels) - 1)]
with components.guard(f"Could not read {bucket}/{ref.object}"):
    text = components.cached_read(service.read_log_object, store, bucket, ref.object, ref.etag)
counts = service.highlights(text)
cols = st.columns(4)
cols[0].metric("Lines", f"{counts['lines']:,}")
cols[1].metric("Errors", counts["errors"])
cols[2].metric("Warnings", counts["warnings"])
cols[3].metric("Cancelled", counts["cancelled"])
query = st.text_input("Search", placeholder="e.g. error, CANCELLED, Traceback")
if query:
    hits = service.search(text, query)
    st.caption(f"{len(hits)} matching lines" + (" (first 500)" if len(hits) == 500 else ""))
    st.code("\n".join(f"{n:>6}  {line}" for n, line in hits) or "(no match)", language=None,
            height=320 if len(hits) > 14 else "content")
lines = st.slider("Tail: last lines", min_value=20, max_value=2000, value=200, step=20)
st.code(service.tail(text, lines), language=None, height=560)
st.download_button("Download log", data=text.encode("utf-8"), file_name=ref.object.rsplit("/", 1)[-1],
                   icon=":material/download:")
