"""Job errors, each with a stable code and a message the person who started the job can act on."""

from ledger.errors import Conflict, LedgerError, NotFound


class JobNotFound(NotFound):
    code = "jobs.not_found"
    message = "找不到该任务，或它不是您发起的"


class JobNotDone(Conflict):
    code = "jobs.not_done"
    message = "任务尚未完成，请稍后再下载"


class JobFailed(LedgerError):
    """Raised inside a job to end it with a message for the user (bad filters, no font)."""

    kind = "invalid"
    code = "jobs.failed"
    message = "任务未能完成"


# Stored as a failed job's error when its process vanished (crash, restart, OOM kill).
WORKER_LOST = {
    "code": "jobs.worker_lost",
    "message": "任务处理中断（服务器进程已退出），请重新发起",
    "details": {},
}
CRASHED = {
    "code": "jobs.crashed",
    "message": "任务因服务器内部错误失败，请稍后重试或联系管理员",
    "details": {},
}
