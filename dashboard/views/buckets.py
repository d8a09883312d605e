"""Buckets: counts per bucket, folder browsing one page at a time, object metadata, preview and download."""

import streamlit as st

from core.services import buckets as service
from core.units import human_bytes
from dashboard import components

components.header("Buckets", "Every bucket of the account; browse folders, inspect metadata, preview and download.")
store = components.store()

with components.guard("Could not list the buckets"):
    table = service.bucket_table(store)
if table.empty:
    st.info("This account has no buckets yet. The pipeline creates them on its first upload; "
            "you can also store a sacct run on the Upload sacct page.")
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric("Buckets", len(table))
c2.metric("Objects", f"{int(table['objects'].sum()):,}")
c3.metric("Stored", human_bytes(int(table["bytes"].sum())))
st.dataframe(table.drop(columns="bytes"), hide_index=True, width="stretch", column_config={
    "objects": st.column_config.NumberColumn(format="%d"),
    "last modified": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
})

bucket = st.selectbox("Bucket", table["bucket"].tolist(), index=service.default_bucket(table), key="bucket")
nav = st.session_state.setdefault("browse", {"bucket": bucket, "prefix": "", "markers": [None]})
if nav["bucket"] != bucket:
    nav.update(bucket=bucket, prefix="", markers=[None])


def go(prefix: str) -> None:
    nav.update(prefix=prefix, markers=[None])


crumbs = service.breadcrumbs(bucket, nav["prefix"])
cols = st.columns(len(crumbs) + 1)
for i, (label, prefix) in enumerate(crumbs):
    cols[i].button(label + " /", key=f"crumb-{i}", on_click=go, args=(prefix,), type="tertiary")

with components.guard(f"Could not list {bucket}/{nav['prefix']}"):
    page = service.browse(store, bucket, nav["prefix"], nav["markers"][-1])

if page.folders:
    st.caption("Folders")
    folder_cols = st.columns(min(len(page.folders), 6))
    for i, folder in enumerate(page.folders):
        folder_cols[i % len(folder_cols)].button(folder, key=f"folder-{folder}", icon=":material/folder:",
                                                 on_click=go, args=(nav["prefix"] + folder,))
if page.objects.empty and not page.folders:
    st.info("This folder is empty.")
if not page.objects.empty:
    st.dataframe(page.objects.drop(columns=["object", "bytes"]), hide_index=True, width="stretch",
                 column_config={"last modified": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
prev_col, info_col, next_col = st.columns([1, 4, 1])
if len(nav["markers"]) > 1 and prev_col.button("← Previous", key="prev"):
    nav["markers"].pop()
    st.rerun()
info_col.caption(f"Page {len(nav['markers'])} · {len(page.objects)} objects, {len(page.folders)} folders "
                 f"({service.PAGE_SIZE} per page)")
if page.next_marker and next_col.button("Next →", key="next"):
    nav["markers"].append(page.next_marker)
    st.rerun()

if not page.objects.empty:
    names = {full[len(nav["prefix"]):]: full for full in page.objects["object"].tolist()}
    name = names[st.selectbox("Object", list(names), key="object")]
    with components.guard(f"Could not read {bucket}/{name}"):
        etag = page.objects.set_index("object")["hash"].get(name, "")
        detail = components.cached_read(service.object_detail, store, bucket, name, str(etag))
    st.subheader("Object")
    st.text(f"{bucket}/{name}")
    meta_col, custom_col = st.columns(2)
    meta_col.caption("General metadata")
    meta_col.dataframe(service.metadata_rows(detail.general), hide_index=True, width="stretch")
    custom_col.caption("Custom metadata (x-object-meta-*)")
    custom_col.dataframe(service.metadata_rows(detail.custom), hide_index=True, width="stretch")
    st.caption("Preview" + (f" — {detail.note}" if detail.note else ""))
    if detail.kind == "table":
        st.dataframe(detail.preview, width="stretch")
    elif detail.kind == "tree":
        st.json(detail.preview, expanded=2)
    elif detail.kind == "text":
        st.code(detail.preview, language=None)
    else:
        st.text(f"{detail.metadata.size:,} bytes of {detail.metadata.content_type or 'unknown type'}; first bytes:")
        st.code(detail.hex_head, language=None)
    st.download_button("Download", data=lambda: service.download(store, bucket, name),
                       file_name=name.rsplit("/", 1)[-1], icon=":material/download:",
                       mime=detail.metadata.content_type or None)
