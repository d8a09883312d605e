"""Upload sacct: paste or upload raw sacct output, check it, chart it, store it as a new parquet version."""

import streamlit as st

from core.platforms import PLATFORMS
from core.services import findings as findings_service
from core.services import sacct as sacct_service
from core.services import tables
from core.services import upload as service
from core.text import counted, markdown_plain
from dashboard import components

components.header("Upload sacct", "Any sacct output: fixed width, --parsable, --parsable2 or --json. "
                  "It is parsed and checked here, then stored as parquet in the forwarder bucket.")
settings = components.settings()
store = components.store()

source_col, options_col = st.columns([3, 2])
with source_col:
    # The widget states the limit and refuses bigger files; the server's check_size is only a backstop.
    uploaded = st.file_uploader("sacct output file", type=None, key="upload_file",
                                max_upload_size=settings.upload_limit_mb)
    pasted = st.text_area("…or paste it here", height=180, key="upload_text",
                          placeholder="JobID|JobName|State|Elapsed|TotalCPU|AllocCPUS\n123|train|COMPLETED|…")
with options_col:
    fields_col, delimiter_col = st.columns([3, 1])
    fields_text = fields_col.text_input("Field list, for --noheader output", key="upload_fields",
                                        placeholder="JobID,State,Elapsed,TotalCPU,…")
    delimiter_text = delimiter_col.text_input("Delimiter", key="upload_delimiter", placeholder="detected",
                                              help="sacct's --delimiter for headerless output (\\t for a tab); "
                                                   "a header line's own delimiter wins.")
    run = st.text_input("Run name", key="upload_run", placeholder="e.g. mahti-ray-2024-05")
    st.caption(f"Stored as ARTIFACTS/SACCT/<user>-<run>.parquet in {sacct_service.forwarder_bucket(settings)}; "
               f"times are read in {settings.sacct_timezone}.")

# Which input is parsed: the only one given, or, when both are, the one the user picks (never a silent default).
FILE, TEXT = "file", "pasted text"
given = [kind for kind, present in ((FILE, uploaded is not None), (TEXT, bool(pasted.strip()))) if present]
choice: str | None = given[0] if len(given) == 1 else None
if len(given) == 2:
    choice = st.radio("A file and pasted text are both given: parse which one?", [FILE, TEXT], index=None,
                      horizontal=True, key="upload_choice",
                      format_func=lambda k: markdown_plain(f"the file {uploaded.name}") if k == FILE and uploaded
                      else k)
identity = None
if choice == FILE and uploaded is not None:
    identity = service.input_identity(FILE, uploaded.file_id, fields_text, delimiter_text)
elif choice == TEXT:
    identity = service.input_identity(TEXT, pasted, fields_text, delimiter_text)

# A parse (and what was stored from it) is shown only while the input it came from is still there, unchanged.
result = st.session_state.get("upload_result")
if result is not None and result["identity"] != identity:
    for key in ("upload_result", "upload_stored", "upload_confirm"):
        st.session_state.pop(key, None)
    result = None

# Never disabled: text typed into the box arrives with the click itself (a disabled button would swallow it).
parse_clicked = st.button("Parse", type="primary", icon=":material/play_arrow:", key="parse")
if parse_clicked and choice is None:
    st.warning("Pick which input to parse first." if len(given) == 2 else
               "Upload a file or paste sacct output first.", icon=":material/warning:")
    parse_clicked = False
if parse_clicked:
    for key in ("upload_result", "upload_stored", "upload_confirm"):
        st.session_state.pop(key, None)
    result = None
    with st.status("Parsing…", expanded=False) as status:
        if choice == FILE and uploaded is not None:
            data: bytes | str = uploaded.getvalue()
            source = uploaded.name
        else:
            data, source = pasted, "pasted text"
        made = components.attempt("The sacct input was not accepted", lambda: service.read_upload(
            data, settings, fields=service.parse_fields(fields_text), delimiter=service.parse_delimiter(delimiter_text),
            source=source, progress=lambda label: status.update(label=label)))
        if isinstance(made, str):
            status.update(label="Not parsed: the reason is below", state="error")
        else:
            status.update(label=f"Parsed {made.run.rows:,} rows ({made.run.format})", state="complete")
    if isinstance(made, str):
        st.error(markdown_plain(made), icon=":material/error:")
        st.stop()
    # Only the preview is kept, computed once (it holds the run encoded as Store writes it): the page's later runs
    # (a run name typed, Store) recompute none of it.
    result = {"preview": made, "source": source, "identity": identity}
    st.session_state["upload_result"] = result

if result is None:
    if len(given) == 2 and choice is None:
        st.info("Pick the input to parse, then press Parse.")
    elif given:
        st.info("Press Parse to read this input.")
    else:
        st.info("Upload a file or paste sacct output, then press Parse.")
    st.stop()

shown = result["preview"]
parsed = shown.run
jobs_text = f": {counted(shown.jobs, 'job')}" if shown.jobs else ""
source = markdown_plain(result["source"])
st.success(f"{counted(parsed.rows, 'row')} in {parsed.format} format from {source}{jobs_text}.",
           icon=":material/check:")
if shown.jobs_note:
    st.warning(shown.jobs_note, icon=":material/tag:")
if shown.cut_note:
    st.warning(markdown_plain(shown.cut_note), icon=":material/content_cut:")
if parsed.warnings:
    with st.expander(service.warning_heading(parsed), expanded=True, icon=":material/warning:"):
        components.dataframe({"line": [w.line for w in parsed.warnings],
                              "problem": [w.message for w in parsed.warnings]}, hide_index=True, width="stretch")
st.caption(f"{f'The first {len(shown.rows):,}' if parsed.rows > len(shown.rows) else 'All'} of {parsed.rows:,} "
           f"rows, as sacct prints them (times in {settings.sacct_timezone}).")
components.sacct_table(tables.row_table(shown.rows, settings.sacct_timezone), key="upload_rows",
                       selectable=False)
if shown.charts:
    for column, figure in zip(st.columns(len(shown.charts)), shown.charts, strict=True):
        column.plotly_chart(figure, width="stretch")
    notes = shown.findings
    with st.expander(counted(len(notes), "finding"), expanded=not notes.empty, icon=":material/lightbulb:"):
        st.caption(findings_service.findings_help(settings))
        st.text(shown.waste)
        if len(notes) > service.PREVIEW_FINDINGS:
            st.caption(f"The worst {service.PREVIEW_FINDINGS:,} of {len(notes):,} findings; the CSV has every one.")
        components.sacct_table(tables.headed_table(notes.head(service.PREVIEW_FINDINGS),
                                                   findings_service.FINDING_HEADERS, settings.sacct_timezone),
                               key="upload_findings", selectable=False)
        st.download_button("Findings as CSV", data=shown.findings_csv,
                           file_name="sacct-findings.csv", mime="text/csv", icon=":material/download:",
                           key="upload_findings_csv")

where = service.run_platform(parsed, run, settings)
if where.cluster is not None:
    platform = where.platform
    st.text(f"Platform: {platform} (sacct's Cluster field says {where.cluster})")
else:
    platform = st.selectbox("Platform", PLATFORMS, index=PLATFORMS.index(where.platform), key=f"upload_platform_{run}",
                            help="sacct printed no Cluster field: the platform this run was on (default from the "
                            "run name, else DEFAULT_PLATFORM).")

stored = st.session_state.get("upload_stored")
if stored and stored["run"] == run:
    st.success(f"Stored {markdown_plain(stored['bucket'] + '/' + stored['object'])} as version {stored['version']}. "
               f"{stored.get('history', '')}", icon=":material/cloud_done:")


def store_now(replace: bool) -> None:
    with components.guard("Could not store the run", progress=None), st.status("Storing…") as status:
        saved = service.store_run(store, settings, run, parsed, replace=replace, platform=platform)
        status.update(label=f"Stored version {saved.version}", state="complete")
    st.session_state["upload_stored"] = {"run": run, "bucket": saved.bucket, "object": saved.object,
                                         "version": saved.version, "history": saved.history_text()}
    st.session_state.pop("upload_confirm", None)
    st.rerun()


if st.button("Store", icon=":material/cloud_upload:", key="store", disabled=not run):
    with components.guard("Could not store the run"):
        existing = service.current_version(store, settings, run)
    if existing is None:
        store_now(replace=False)
    else:
        st.session_state["upload_confirm"] = {"run": run, "version": existing}
confirm = st.session_state.get("upload_confirm")
if confirm and confirm["run"] == run:
    st.warning(f"Run {markdown_plain(repr(run))} is already stored (version {confirm['version']}). Storing again "
               "keeps that version and adds a new one.", icon=":material/warning:")
    if st.button("Store as a new version", type="primary", key="confirm"):
        store_now(replace=True)
if not run:
    st.caption("Name the run to store it.")
