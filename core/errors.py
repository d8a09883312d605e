"""The one exception tree of the monitor.

Every failure a page can show derives from :class:`MonitorError`. Storage errors carry the bucket and object they
concern and, for Swift, the transaction id, so a message names what went wrong where. No message ever contains a
password or a token: messages are built from names only, never from request headers or credentials.

::

    MonitorError
    ├── SettingsError            a setting has a wrong value (names the key)
    ├── StoreError               anything storage says (bucket, object, transaction id)
    │   ├── AuthenticationFailed   Keystone refused the credentials
    │   ├── TokenExpired           a pre-authenticated token expired and cannot be renewed
    │   ├── Forbidden              authenticated, but not allowed (another project's bucket)
    │   ├── NotFound               no such bucket or object
    │   ├── Conflict               the object exists and overwrite was not asked for; or a write race was lost
    │   ├── InvalidName            a bucket or object name storage would refuse or that escapes the store
    │   ├── DamagedObject          an object that cannot be read as what it should be (also ValueError)
    │   │   └── ObjectTooLarge       reading it would expand past a configured limit (rows, bytes)
    │   └── StoreUnavailable       storage or Keystone did not answer (down, timeout, 5xx)
    ├── InvalidInput (also ValueError)       what a user typed or a link named is not valid (job id, run name, …)
    ├── SacctParseError (also ValueError)    input is not sacct output at all
    ├── UnsafePickleError (also ValueError)  a pickle tried to import or call something
    └── InputTooLarge (also ValueError)      an upload over the size limit
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error the monitor raises on purpose."""


class SettingsError(MonitorError, ValueError):
    """A setting is missing or has a wrong value; ``key`` names it."""

    def __init__(self, key: str, reason: str) -> None:
        """Build the error for setting ``key``."""
        self.key = key
        self.reason = reason
        super().__init__(f"setting {key}: {reason}")


class StoreError(MonitorError):
    """A storage operation failed.

    Attributes:
        bucket: the bucket (Swift container) concerned, if any.
        obj: the object name concerned, if any.
        transaction_id: Swift's ``X-Trans-Id`` of the failed request, if known.
    """

    default_reason = "storage error"

    def __init__(
        self,
        reason: str | None = None,
        *,
        bucket: str | None = None,
        obj: str | None = None,
        transaction_id: str | None = None,
    ) -> None:
        """Build the error; the message is derived from the reason and the names."""
        self.reason = reason or self.default_reason
        self.bucket = bucket
        self.obj = obj
        self.transaction_id = transaction_id
        super().__init__(self.describe())

    @property
    def location(self) -> str:
        """``bucket/object``, the bucket or the object alone, or ``""``: what the message names."""
        if self.bucket is not None and self.obj is not None:
            return f"{self.bucket}/{self.obj}"
        return self.bucket or self.obj or ""

    def describe(self, *, located: bool = True) -> str:
        """The message: the reason, then (when ``located``) the bucket/object, then the transaction id."""
        where = ""
        if located and self.location:
            where = f" ({'object' if self.obj is not None else 'bucket'} {self.location})"
        trans = f" [transaction {self.transaction_id}]" if self.transaction_id else ""
        return f"{self.reason}{where}{trans}"


class AuthenticationFailed(StoreError):
    """Keystone refused the credentials (wrong user, password or project)."""

    default_reason = "authentication failed"


class TokenExpired(StoreError):
    """The token expired and there are no credentials to get a new one."""

    default_reason = "the access token has expired; sign in again"


class Forbidden(StoreError):
    """Authenticated, but this user may not do that (e.g. another project's bucket)."""

    default_reason = "access forbidden"


class NotFound(StoreError):
    """No such bucket or object."""

    default_reason = "not found"


class Conflict(StoreError):
    """The object exists and overwriting was not asked for, or a concurrent write won."""

    default_reason = "object already exists"


class InvalidName(StoreError, ValueError):
    """A bucket or object name that storage would refuse, or that would escape the store's root."""

    default_reason = "invalid name"


class DamagedObject(StoreError, ValueError):
    """An object is corrupt, truncated, of another kind, or has unexpected columns or types.

    Every reader of typed objects (parquet frames, management objects, logs) raises this one type, naming the bucket
    and object, whatever the decoder underneath raised.
    """

    default_reason = "the object cannot be read"


class ObjectTooLarge(DamagedObject):
    """Reading the object would expand past a configured limit (READ_LIMIT_ROWS, READ_LIMIT_MB, ...)."""

    default_reason = "the object is too large to read"


class StoreUnavailable(StoreError):
    """Storage (or Keystone) did not answer in time or answered with a server error."""

    default_reason = "object storage is unavailable"


class InvalidInput(MonitorError, ValueError):
    """What a user typed or a link named is not valid: a job id, a run name, a platform, a line of a log."""


class SacctParseError(MonitorError, ValueError):
    """The input has no recognisable sacct header: prose, binary, empty, or an unknown layout."""


class UnsafePickleError(MonitorError, ValueError):
    """A pickle tried to import or call something other than builtin containers and scalars."""


class InputTooLarge(MonitorError, ValueError):
    """An uploaded input is over the configured size limit."""

    def __init__(self, size: int, limit: int, what: str = "input") -> None:
        """Build the error with the size and the limit in bytes."""
        self.size = size
        self.limit = limit
        super().__init__(f"{what} is {size / 2**20:,.1f} MB ({size:,} bytes); the limit is {limit / 2**20:,.0f} MB "
                         f"(UPLOAD_LIMIT_MB)")


def failure_message(what: str, exc: BaseException) -> str:
    """The message a page shows for ``exc`` after the words ``what`` ("Could not read b/o"), naming the object once.

    A storage error names its bucket and object; when ``what`` already names them, the error adds only what went
    wrong (and Swift's transaction id), not the name a second time.

    Args:
        what: what the page tried, usually naming the bucket or object.
        exc: the error it raised.

    Returns:
        ``what: reason``, with the bucket/object added only when ``what`` does not already name it.
    """
    if isinstance(exc, StoreError) and exc.location and exc.location in what:
        return f"{what}: {exc.describe(located=False)}"
    return f"{what}: {exc}"
