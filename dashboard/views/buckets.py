"""Buckets: counts per bucket, folder browsing one page at a time, object metadata, preview and download."""

import streamlit as st

from core.services import buckets as service
from core.text import markdown_plain
from core.units import iec_size
from dashboard import components, links

components.header("Buckets", "Every bucket of the account; browse folders, inspect metadata, preview and download.")
view = links.ViewParams("buckets", ("prefix", "page", "object", "version"), bound=("bucket",))
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
c3.metric("Stored", iec_size(int(table["size"].sum())))
components.dataframe(components.with_sizes(table), hide_index=True, width="stretch", column_config={
    "objects": st.column_config.NumberColumn(format="%d"),
    "last modified": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
})

names = table["bucket"].tolist()
missing = links.unknown_values("bucket", names)
if missing:
    links.stale("the bucket", missing, "the first bucket holding objects")
    for key in ("prefix", "page", "object", "version"):
        view.set(key, None)


def open_folder(prefix: str) -> None:
    """Show ``prefix`` from its first page, no object open."""
    view.set("prefix", prefix or None)
    view.set("page", None)
    view.set("object", None)
    view.set("version", None)


bucket = st.selectbox("Bucket", names, index=service.default_bucket(table), key="bucket", bind="query-params",
                      persist_state="session", on_change=open_folder, args=("",))
prefix = view.get("prefix") or ""
page_text = view.get("page") or "1"
page_number = int(page_text) if page_text.isdigit() and int(page_text) >= 1 else 1

# Breadcrumbs in a wrapping row: a deep path goes on to the next line instead of squeezing every crumb.
with st.container(horizontal=True, gap="small"):
    for i, (label, crumb) in enumerate(service.breadcrumbs(bucket, prefix)):
        st.button(markdown_plain(label + " /"), key=f"crumb-{i}", on_click=open_folder, args=(crumb,), type="tertiary")

markers_key = f"markers:{bucket}:{prefix}"
with components.guard(f"Could not list {bucket}/{prefix}"):
    markers = service.page_markers(store, bucket, prefix, page_number, st.session_state.get(markers_key, [None]))
    if len(markers) < page_number:
        links.stale("page", [page_text], f"page {len(markers)}, the last one")
        page_number = len(markers)
        view.set("page", str(page_number) if page_number > 1 else None)
    st.session_state[markers_key] = markers
    page = service.browse(store, bucket, prefix, markers[page_number - 1])
    # The bucket's row (objects, bytes, last change) keys the cached count: an unchanged bucket is not listed again.
    state = tuple(str(v) for v in table.loc[table["bucket"] == bucket, ["objects", "size", "last modified"]]
                  .iloc[0].tolist())
    total = components.folder_total(store, bucket, prefix, state) if prefix else None

if total is not None:
    st.caption(f"This folder: {total.describe()}")
if page.folders:
    st.caption("Folders")
    with st.container(horizontal=True, gap="small"):
        for folder in page.folders:
            st.button(markdown_plain(folder), key=f"folder-{folder}", icon=":material/folder:", on_click=open_folder,
                      args=(prefix + folder,))
if page.objects.empty and not page.folders:
    st.info("This folder is empty (or no longer exists): go back with the path above.")
opened = view.get("object")
if not page.objects.empty:
    objects = page.objects["object"].tolist()
    position = objects.index(opened) if opened in objects else None
    st.caption("Select a row to open the object.")
    with components.guard(f"Could not list the stored versions in {bucket}/{prefix}"):
        shown = service.label_versions(store, bucket, page.objects)
    picked = components.dataframe(
        components.with_sizes(shown.drop(columns="object")), hide_index=True, width="stretch",
        on_select="rerun", selection_mode="single-row", key=f"objects-{bucket}-{prefix}-{page_number}-{opened}",
        selection_default={"selection": {"rows": [] if position is None else [position]}},
        column_config={"last modified": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
    if picked.selection.rows and picked.selection.rows[0] != position:
        view.set("object", objects[picked.selection.rows[0]])
        st.rerun()


def turn(to: int) -> None:
    view.set("page", str(to) if to > 1 else None)
    view.set("object", None)


prev_col, info_col, next_col = st.columns([1, 4, 1])
if page_number > 1:
    prev_col.button("← Previous", key="prev", on_click=turn, args=(page_number - 1,))
info_col.caption(f"Page {page_number} · {len(page.objects)} objects, {len(page.folders)} folders "
                 f"({service.PAGE_SIZE} per page)")
if page.next_marker:
    next_col.button("Next →", key="next", on_click=turn, args=(page_number + 1,))

if opened is not None:
    name = opened
    limits = components.settings().read_limits
    st.subheader("Object")
    st.text(f"{bucket}/{opened}")
    with components.guard(f"Could not list the versions of {bucket}/{opened}"):
        version = service.version_of(store, bucket, opened)
        versions = service.versions_table(store, bucket, opened) if version is None else None
    if version is not None:
        st.caption(f"Stored version {version[1]} of an object")
        st.text(version[0])
    # Earlier versions stay readable: the picker shows one in place of the current object (and keeps it in the URL).
    chosen_version: int | None = None
    if versions is not None and not versions.empty:
        numbers = [int(n) for n in versions["version"]]
        asked = view.get("version")
        if asked is not None and not (asked.isdigit() and int(asked) in numbers):
            links.stale("version", [asked], "the current object")
            view.set("version", None)
            asked = None
        choices: list[int | None] = [None, *numbers]
        chosen_version = st.selectbox(
            "Version", choices, index=choices.index(int(asked)) if asked else 0, key=f"version-{bucket}-{opened}",
            format_func=lambda n: "current (newest)" if n is None else f"version {n} of {len(numbers)}",
            help="Every store of this object is kept under .versions/; pick one to read it here.")
        view.set("version", None if chosen_version is None else str(chosen_version))
    if chosen_version is None:
        listed = dict(zip(page.objects["object"], page.objects["hash"], strict=True))
        found = components.attempt(f"Could not open {bucket}/{name}", lambda: components.cached_read(
            service.object_detail, store, bucket, name, listed.get(name), limits),
            if_missing=" It may have been removed; pick another object above.")
        # (an object not on this page, e.g. a stored version, has no listed etag: cached_read asks with a HEAD)
    else:
        assert versions is not None
        etag = str(versions.loc[versions["version"] == chosen_version, "etag"].iat[0])
        found = components.attempt(
            f"Could not open version {chosen_version} of {bucket}/{name}", lambda: components.cached_read(
                service.version_detail, store, bucket, name, etag, chosen_version, limits))
    if isinstance(found, str):
        st.warning(links.plain(found), icon=":material/link_off:")
        st.stop()
    detail = found
    meta_col, custom_col = st.columns(2)
    with meta_col:
        st.caption("General metadata")
        components.dataframe(service.metadata_rows(detail.general), hide_index=True, width="stretch")
    with custom_col:
        st.caption("Custom metadata (x-object-meta-*)")
        components.dataframe(service.metadata_rows(detail.custom), hide_index=True, width="stretch")
    if versions is not None and not versions.empty:
        st.caption(f"{len(versions)} stored versions of this object (newest first); select one to open the object "
                   "that holds it")
        chosen = components.dataframe(components.with_sizes(versions.drop(columns=["object", "etag"])), hide_index=True,
                                      width="stretch",
                                      on_select="rerun", selection_mode="single-row", key=f"versions-{bucket}-{opened}",
                                      column_config={"version": st.column_config.NumberColumn(format="%d"),
                                                     "last modified": st.column_config.DatetimeColumn(
                                                         format="YYYY-MM-DD HH:mm:ss")})
        if chosen.selection.rows:
            slot = versions["object"].iat[chosen.selection.rows[0]]
            open_folder(slot.rsplit("/", 1)[0] + "/")
            view.set("object", slot)
            st.rerun()
    st.caption(markdown_plain("Preview" + (f" — {detail.note}" if detail.note else "")))
    if detail.kind == "table":
        components.dataframe(detail.preview, width="stretch")
    elif detail.kind == "tree":
        st.json(detail.preview, expanded=2)
    elif detail.kind == "text":
        # A long text keeps its own scroll bar instead of stretching the page.
        st.code(detail.preview, language=None, height=480 if detail.preview.count("\n") > 25 else "content")
    else:
        st.text(f"{detail.metadata.size:,} bytes of {detail.metadata.content_type or 'unknown type'}; first bytes:")
        st.code(detail.hex_head, language=None)
    refusal = service.download_refusal(bucket, name, detail.metadata.size,
                                       components.settings().download_limit_mb * 2**20)
    if refusal is not None:
        st.info(markdown_plain(refusal), icon=":material/download:")
    else:
        st.download_button("Download", data=lambda: service.download(store, bucket, name, chosen_version),
                           file_name=opened.rsplit("/", 1)[-1], icon=":material/download:",
                           mime=detail.metadata.content_type or None)
