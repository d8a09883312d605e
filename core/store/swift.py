"""OpenStack Swift (CSC Allas) behind Keystone, through python-swiftclient.

Two ways in:

- :meth:`SwiftStore.from_credentials`: a keystoneauth1 password session (``Connection(session=...)``), which renews
  its token by itself;
- :meth:`SwiftStore.from_token`: the seed's pre-authenticated storage URL + token. When that token expires (401) the
  store rebuilds its connection from credentials if it has them, else raises :class:`core.errors.TokenExpired`.

Every swiftclient/keystoneauth failure becomes an error of :mod:`core.errors` naming the bucket, the object and the
transaction id; requests have a timeout and no retries, so a Swift that is down is reported within seconds. Neither
the password nor the token is ever part of a message, and swiftclient's request logging (which prints headers) is
kept below WARNING.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import swiftclient
from keystoneauth1 import exceptions as ks_exceptions
from swiftclient.exceptions import ClientException

from core.auth import TIMEOUT, Credentials, keystone_session, map_keystone_error
from core.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    NotFound,
    StoreError,
    StoreUnavailable,
    TokenExpired,
)
from core.metadata import encode_metadata, split_headers
from core.naming import validate_bucket_name, validate_object_name
from core.store.base import (
    SWIFT_PAGE_LIMIT,
    BucketInfo,
    FolderEntry,
    MetaValue,
    ObjectEntry,
    ObjectMetadata,
    ObjectPage,
    ObjectStore,
)

# swiftclient logs requests with their headers at INFO/DEBUG; tokens must not reach any log.
logging.getLogger("swiftclient").setLevel(logging.WARNING)

T = TypeVar("T")
#: GETs :meth:`SwiftStore.get_objects` keeps in flight at once.
PARALLEL_GETS = 16
#: The whole object's size in a partial answer's ``Content-Range: bytes 100-199/5000``.
_CONTENT_RANGE_TOTAL = re.compile(r"/(\d+)\s*$")


def _listing_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None


def _header_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def _timestamp_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(text), tz=UTC) if text else None
    except ValueError:
        return None


class SwiftStore(ObjectStore):
    """An :class:`core.store.base.ObjectStore` on OpenStack Swift."""

    kind = "swift"
    atomic_create = False

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        storage_url: str | None = None,
        token: str | None = None,
        timeout: float = TIMEOUT,
        on_renewal: Callable[[str, str], None] | None = None,
    ) -> None:
        """Prefer :meth:`from_credentials` or :meth:`from_token`."""
        if credentials is None and not (storage_url and token):
            raise AuthenticationFailed("Swift needs credentials or a storage URL and token")
        self._credentials = credentials
        self._storage_url = storage_url
        self._token = token
        self._timeout = timeout
        self._on_renewal = on_renewal
        self._connection = self._connect(prefer_token=bool(token))

    @classmethod
    def from_credentials(cls, credentials: Credentials, *, timeout: float = TIMEOUT) -> SwiftStore:
        """A store on a keystoneauth1 session that renews its own token."""
        return cls(credentials=credentials, timeout=timeout)

    @classmethod
    def from_token(
        cls,
        storage_url: str,
        token: str,
        credentials: Credentials | None = None,
        *,
        timeout: float = TIMEOUT,
        on_renewal: Callable[[str, str], None] | None = None,
    ) -> SwiftStore:
        """A store on a pre-authenticated URL and token.

        Args:
            storage_url: The account's storage URL.
            token: A Keystone token for it.
            credentials: Optional; they let the store replace an expired or revoked token.
            timeout: Seconds a request may take.
            on_renewal: Called with the storage URL and the new token right after a replacement, whatever code
                path made the request (so a caller can keep the token without checking after every use).
        """
        return cls(credentials=credentials, storage_url=storage_url, token=token, timeout=timeout,
                   on_renewal=on_renewal)

    def __repr__(self) -> str:
        who = self._credentials.username if self._credentials else "token"
        return f"SwiftStore(user={who!r}, url={self._storage_url!r})"

    @property
    def identity(self) -> str:
        """``swift:<storage URL>:<user>``: the account (its URL names it) and the user; no secret in it."""
        user = self._credentials.username if self._credentials else "pre-authenticated"
        return f"swift:{self.storage_url}:{user}"

    @property
    def storage_url(self) -> str:
        """The account's storage URL."""
        if self._storage_url is None:
            self._storage_url, self._token = self._call(lambda: self._connection.get_auth())
        return str(self._storage_url)

    def current_token(self) -> tuple[str, str]:
        """The storage URL and the token in use (for a browser session to keep; never for display)."""
        url, token = self._call(lambda: self._connection.get_auth())
        self._storage_url = url
        return str(url), str(token)

    def _connect(self, *, prefer_token: bool) -> Any:
        if prefer_token:
            return swiftclient.Connection(
                preauthurl=self._storage_url, preauthtoken=self._token, retries=0, timeout=self._timeout
            )
        assert self._credentials is not None
        session = keystone_session(self._credentials, timeout=self._timeout)
        options = {"object_storage_url": self._storage_url} if self._storage_url else {}
        return swiftclient.Connection(session=session, os_options=options, retries=0, timeout=self._timeout)

    # --- error mapping ----------------------------------------------------------------------------------------

    def _call(self, action: Callable[[], T], *, bucket: str | None = None, obj: str | None = None) -> T:
        try:
            return action()
        except ClientException as exc:
            if exc.http_status == 401 and self._credentials is not None:
                # The token expired or was revoked: rebuild on a fresh session and try once more.
                self._token = None
                self._connection = self._connect(prefer_token=False)
                try:
                    return action()
                except ClientException as again:
                    raise self._map(again, bucket, obj) from None
                except ks_exceptions.ClientException as again:
                    raise map_keystone_error(again, self._credentials) from None
                finally:
                    self._announce_renewal()
            raise self._map(exc, bucket, obj) from None
        except ks_exceptions.ClientException as exc:
            if self._credentials is None:  # pragma: no cover - keystone is only used with credentials
                raise StoreUnavailable("authentication failed") from None
            raise map_keystone_error(exc, self._credentials) from None
        except OSError as exc:
            raise StoreUnavailable(f"Swift did not answer ({type(exc).__name__})", bucket=bucket, obj=obj) from None

    def _announce_renewal(self) -> None:
        """Hand the new token to ``on_renewal``, also when the retried request failed for another reason (404)."""
        if self._on_renewal is None:
            return
        try:
            url, token = self.current_token()
        except StoreError:
            return  # authenticating failed: the retried request has raised that error already
        self._on_renewal(url, token)

    def _map(self, exc: ClientException, bucket: str | None, obj: str | None) -> StoreError:
        status = exc.http_status
        trans = getattr(exc, "transaction_id", None)
        where: dict[str, Any] = {"bucket": bucket, "obj": obj, "transaction_id": trans}
        if status == 401:
            if self._credentials is None:
                return TokenExpired(**where)
            return AuthenticationFailed("Swift refused the token", **where)
        if status == 403:
            return Forbidden("access forbidden: this bucket belongs to another project or user", **where)
        if status == 404:
            return NotFound("no such object" if obj else "no such bucket", **where)
        if status in (409, 412):  # 412: If-None-Match found the object; 409: a newer write already landed
            return Conflict(**where)
        if status is None or status >= 500:
            reason = f"HTTP {status}" if status else "no answer"
            return StoreUnavailable(f"object storage is unavailable ({reason})", **where)
        return StoreError(f"Swift answered HTTP {status} {exc.http_reason or ''}".strip(), **where)

    # --- buckets ----------------------------------------------------------------------------------------------

    def list_buckets(self) -> list[BucketInfo]:
        """The account's containers with counts and bytes (account listing, no object listing)."""
        _, containers = self._call(lambda: self._connection.get_account(full_listing=True))
        return [
            BucketInfo(c["name"], int(c.get("count", 0)), int(c.get("bytes", 0)), _listing_time(c.get("last_modified")))
            for c in containers
        ]

    def head_bucket(self, bucket: str) -> BucketInfo:
        """Counts from the container HEAD."""
        validate_bucket_name(bucket)
        headers = self._call(lambda: self._connection.head_container(bucket), bucket=bucket)
        modified = _header_time(headers.get("last-modified")) or _timestamp_time(headers.get("x-timestamp"))
        return BucketInfo(
            bucket, int(headers.get("x-container-object-count", 0)), int(headers.get("x-container-bytes-used", 0)),
            modified,
        )

    def create_bucket(self, bucket: str) -> None:
        """PUT the container (idempotent in Swift)."""
        validate_bucket_name(bucket)
        self._call(lambda: self._connection.put_container(bucket), bucket=bucket)

    # --- listing ----------------------------------------------------------------------------------------------

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        marker: str | None = None,
        limit: int = SWIFT_PAGE_LIMIT,
    ) -> ObjectPage:
        """One GET of the container listing (asks for one more entry to know whether a next page exists)."""
        validate_bucket_name(bucket)
        ask = min(limit + 1, SWIFT_PAGE_LIMIT) if limit < SWIFT_PAGE_LIMIT else SWIFT_PAGE_LIMIT
        _, items = self._call(
            lambda: self._connection.get_container(
                bucket, prefix=prefix or None, delimiter=delimiter, marker=marker or "", limit=ask
            ),
            bucket=bucket,
        )
        more = len(items) > limit or (limit >= SWIFT_PAGE_LIMIT and len(items) == SWIFT_PAGE_LIMIT)
        items = items[:limit]
        objects: list[ObjectEntry] = []
        folders: list[FolderEntry] = []
        last = None
        for item in items:
            if "subdir" in item:
                folders.append(FolderEntry(item["subdir"]))
                last = item["subdir"]
            else:
                objects.append(ObjectEntry(
                    name=item["name"], bytes=int(item.get("bytes", 0)), hash=item.get("hash", ""),
                    last_modified=_listing_time(item.get("last_modified")),
                    content_type=item.get("content_type", "application/octet-stream"),
                ))
                last = item["name"]
        return ObjectPage(objects, folders, last if more else None)


    # --- objects ----------------------------------------------------------------------------------------------

    def _metadata(self, bucket: str, name: str, headers: Mapping[str, str]) -> ObjectMetadata:
        general, custom = split_headers(headers)
        return ObjectMetadata(
            bucket=bucket, name=name, size=int(general.get("content-length", 0)),
            etag=general.get("etag", "").strip('"'), content_type=general.get("content-type", ""),
            last_modified=_header_time(general.get("last-modified")), general=general, custom=custom,
        )

    def head_object(self, bucket: str, name: str) -> ObjectMetadata:
        """HEAD of the object, custom metadata decoded."""
        validate_bucket_name(bucket)
        validate_object_name(name, bucket=bucket)
        headers = self._call(lambda: self._connection.head_object(bucket, name), bucket=bucket, obj=name)
        return self._metadata(bucket, name, headers)

    def get_object(self, bucket: str, name: str) -> tuple[ObjectMetadata, bytes]:
        """GET of the whole object."""
        validate_bucket_name(bucket)
        validate_object_name(name, bucket=bucket)
        headers, body = self._call(lambda: self._connection.get_object(bucket, name), bucket=bucket, obj=name)
        return self._metadata(bucket, name, headers), bytes(body)

    def get_objects(self, bucket: str, names: Sequence[str]) -> Iterator[tuple[str, ObjectMetadata, bytes]]:
        """GETs of ``names``, up to :data:`PARALLEL_GETS` in flight.

        Each thread has its own connection (a swiftclient connection serves one request at a time) with this store's
        token; a GET refused for an expired token is made again through :meth:`get_object`, which renews it.
        """
        for name in names:
            validate_object_name(name, bucket=bucket)
        validate_bucket_name(bucket)
        if len(names) < 2:
            yield from super().get_objects(bucket, names)
            return
        url, token = (self._storage_url, self._token) if self._storage_url and self._token else self.current_token()
        connections = threading.local()
        refused = threading.Event()  # the token was refused: the rest go through get_object, which renews it

        def get(name: str) -> tuple[dict[str, str], bytes] | None:
            if refused.is_set():
                return None
            if not hasattr(connections, "own"):
                connections.own = swiftclient.Connection(preauthurl=url, preauthtoken=token, retries=0,
                                                         timeout=self._timeout)
            try:
                headers, body = connections.own.get_object(bucket, name)
            except ClientException as exc:
                if exc.http_status == 401 and self._credentials is not None:
                    refused.set()
                    return None
                raise self._map(exc, bucket, name) from None
            except OSError as exc:
                raise StoreUnavailable(f"Swift did not answer ({type(exc).__name__})", bucket=bucket,
                                       obj=name) from None
            return headers, bytes(body)

        with ThreadPoolExecutor(min(PARALLEL_GETS, len(names))) as pool:
            for name, got in zip(names, pool.map(get, names), strict=True):
                if got is None:
                    meta, data = self.get_object(bucket, name)
                    yield name, meta, data
                else:
                    yield name, self._metadata(bucket, name, got[0]), got[1]

    def stream_object(
        self, bucket: str, name: str, *, chunk_size: int = 1 << 20, last: int | None = None
    ) -> tuple[ObjectMetadata, Iterator[bytes]]:
        """GET with the body in chunks; with ``last``, a GET of that many bytes from the end (an HTTP suffix range).

        A range storage cannot satisfy (416: an empty object) is read whole; the size is the whole object's, from
        the ``Content-Range`` of a partial answer.
        """
        validate_bucket_name(bucket)
        validate_object_name(name, bucket=bucket)

        def get() -> tuple[dict[str, str], Any]:
            if last is not None and last > 0:
                try:
                    return self._connection.get_object(  # type: ignore[no-any-return]
                        bucket, name, resp_chunk_size=chunk_size, headers={"Range": f"bytes=-{last}"})
                except ClientException as exc:
                    if exc.http_status != 416:
                        raise
            return self._connection.get_object(bucket, name, resp_chunk_size=chunk_size)  # type: ignore[no-any-return]

        headers, body = self._call(get, bucket=bucket, obj=name)
        total = _CONTENT_RANGE_TOTAL.search(headers.get("content-range", ""))
        if total is not None:
            headers = {**headers, "content-length": total.group(1)}

        def chunks() -> Iterator[bytes]:
            try:
                yield from body
            except (ClientException, OSError) as exc:
                raise StoreUnavailable("the download broke off", bucket=bucket, obj=name) from exc

        return self._metadata(bucket, name, headers), chunks()

    def put_object(
        self,
        bucket: str,
        name: str,
        data: bytes,
        *,
        metadata: Mapping[str, MetaValue] | None = None,
        content_type: str | None = None,
        if_none_match: bool = False,
    ) -> None:
        """PUT the object (atomic in Swift), creating the container on a 404."""
        validate_bucket_name(bucket)
        validate_object_name(name, bucket=bucket)
        headers = encode_metadata(metadata or {})
        if if_none_match:
            headers["If-None-Match"] = "*"

        def put() -> None:
            self._connection.put_object(bucket, name, data, content_type=content_type, headers=headers)

        try:
            self._call(put, bucket=bucket, obj=name)
        except NotFound:
            self.create_bucket(bucket)
            self._call(put, bucket=bucket, obj=name)

    def copy_object(self, bucket: str, source: str, name: str, *, metadata: Mapping[str, MetaValue]) -> None:
        """COPY ``source`` to ``name`` inside Swift.

        Swift's copy middleware and Ceph RGW both serve COPY, and both merge the given metadata into the source's.
        """
        validate_bucket_name(bucket)
        validate_object_name(source, bucket=bucket)
        validate_object_name(name, bucket=bucket)
        headers = encode_metadata(metadata)
        self._call(lambda: self._connection.copy_object(bucket, source, destination=f"/{bucket}/{name}",
                                                        headers=headers), bucket=bucket, obj=source)

    def delete_object(self, bucket: str, name: str) -> None:
        """DELETE the object."""
        validate_bucket_name(bucket)
        validate_object_name(name, bucket=bucket)
        self._call(lambda: self._connection.delete_object(bucket, name), bucket=bucket, obj=name)
