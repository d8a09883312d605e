"""Upload sacct: paste or upload raw sacct output, check it, chart it, store it as a new parquet version."""

import streamlit as st

from core.services import charts
from core.services import sacct as sacct_service
from core.services import upload as service
from dashboard import components

components.header("Upload sacct", "Any sacct output: fixed width, --parsable, --parsable2 or --json. "
                  "It is parsed and checked here, then stored as parquet in the forwarder bucket.")
settings = components.settings()
store = components.store()
limit_mb = settings.upload_limit_mb

source_col, options_col = st.columns([3, 2])
with source_col:
    uploaded = st.file_uploader(f"sacct output file (up to {limit_mb} MB)", type=None, key="upload_file")
    pasted = st.text_area("…or paste it here", height=180, key="upload_text",
                          placeholder="JobID|JobName|State|Elapsed|TotalCPU|AllocCPUS\n123|train|COMPLETED|…")
with options_col:
    fields_text = st.text_input("Field list, for --noheader output", key="upload_fields",
                                placeholder="JobID,State,Elapsed,TotalCPU,…")
    run = st.text_input("Run name", key="upload_run", placeholder="e.g. mahti-ray-2024-05")
    st.caption(f"Stored as ARTIFACTS/SACCT/<user>-<run>.parquet in {sacct_service.forwarder_bucket(settings)}; "
               f"times are read in {settings.sacct_timezone}.")

if st.button("Parse", type="primary", icon=":material/play_arrow:", key="parse"):
    st.session_state.pop("upload_result", None)
    st.session_state.pop("upload_stored", None)
    with components.guard("The sacct input was not accepted"), st.status("Parsing…", expanded=False) as status:
        if uploaded is not None:
            service.check_size(uploaded.size, settings)
            data: bytes | str = uploaded.getvalue()
            source = uploaded.name
        elif pasted.strip():
            data, source = pasted, "pasted text"
        else:
            raise ValueError("upload a file or paste sacct output first")
        parsed = service.parse_upload(data, settings, fields=service.parse_fields(fields_text), source=source)
        status.update(label=f"Parsed {len(parsed.frame):,} rows ({parsed.format}) from {source}", state="complete")
    st.session_state["upload_result"] = {"parsed": parsed, "source": source}

result = st.session_state.get("upload_result")
if result is None:
    st.info("Upload a file or paste sacct output, then press Parse.")
    st.stop()

parsed = result["parsed"]
frame = parsed.frame
st.success(f"{len(frame):,} rows in {parsed.format} format from {result['source']}.", icon=":material/check:")
if parsed.warnings:
    with st.expander(service.warning_heading(parsed), expanded=True, icon=":material/warning:"):
        st.dataframe({"line": [w.line for w in parsed.warnings], "problem": [w.message for w in parsed.warnings]},
                     hide_index=True, width="stretch")
st.dataframe(frame.head(500), hide_index=True, width="stretch")
jobs = service.preview_jobs(parsed)
if jobs is not None and not jobs.empty:
    left, right = st.columns(2)
    left.plotly_chart(charts.state_counts(jobs), width="stretch")
    right.plotly_chart(charts.efficiency(jobs), width="stretch")

stored = st.session_state.get("upload_stored")
if stored:
    st.success(f"Stored {stored['bucket']}/{stored['object']} as version {stored['version']}.",
               icon=":material/cloud_done:")


def store_now(replace: bool) -> None:
    with components.guard("Could not store the run"), st.status("Storing…") as status:
        saved = service.store_run(store, settings, run, parsed, replace=replace)
        status.update(label=f"Stored version {saved.version}", state="complete")
    st.session_state["upload_stored"] = {"bucket": saved.bucket, "object": saved.object, "version": saved.version}
    st.session_state.pop("upload_confirm", None)
    st.rerun()


if st.button("Store", icon=":material/cloud_upload:", key="store", disabled=not run):
    with components.guard("Could not store the run"):
        existing = service.current_version(store, settings, run)
    if existing is None:
        store_now(replace=False)
    else:
        st.session_state["upload_confirm"] = existing
if st.session_state.get("upload_confirm"):
    st.warning(f"Run {run!r} is already stored (version {st.session_state['upload_confirm']}). Storing again "
               "keeps that version and adds a new one.", icon=":material/warning:")
    if st.button("Store as a new version", type="primary", key="confirm"):
        store_now(replace=True)
if not run:
    st.caption("Name the run to store it.")
