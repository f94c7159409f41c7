"""Exceptions of the sync engine; the server maps them to the JSON error envelope."""

from __future__ import annotations

from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound


class SyncInvalid(InvalidInput):
    """The push or pull request itself is malformed (not a single mutation in it)."""

    code = "sync.invalid"
    message = "同步数据格式有误，请更新应用后重试"


class ConflictNotFound(NotFound):
    code = "sync.conflict_not_found"
    message = "找不到该冲突记录，或它不在您负责的范围内"


class ConflictClosed(InvalidInput):
    code = "sync.conflict_closed"
    message = "该冲突已经处理过了，请刷新列表"


class SyncForbidden(Forbidden):
    code = "sync.forbidden"
    message = "您没有权限同步这类修改"


class SyncStale(Conflict):
    """A WatermelonDB push touched records that changed after the device last pulled."""

    code = "sync.stale"
    message = "服务器上的记录在您上次同步后又有修改，请重新同步：先下载，再上传"
