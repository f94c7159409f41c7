"""Where jobs run: a thread pool in this process (default) or RQ workers via Redis."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from server.jobs.execute import heartbeat, run_job, runner_name

log = logging.getLogger(__name__)
QUEUE = "wangge"


class LocalRunner:
    """Jobs on a small thread pool of the web process; the heartbeat covers them while
    queued too, since a queue that lives in memory dies with its process."""

    name = "local"

    def __init__(self, app: Flask, threads: int) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job")

    def label(self) -> str:
        return runner_name("local")

    def submit(self, job_id: str) -> None:
        heartbeat(self.app).own(job_id)
        self.pool.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        try:
            run_job(self.app, job_id, self.label())
        except Exception:
            log.exception("job %s could not run", job_id)


class RedisRunner:
    """Jobs on an RQ queue; ``flask --app wsgi worker`` runs them in other processes."""

    name = "rq"

    def __init__(self, redis_url: str, timeout: int) -> None:
        from redis import Redis
        from rq import Queue

        self.queue = Queue(QUEUE, connection=Redis.from_url(redis_url))
        self.timeout = timeout

    def label(self) -> str:
        return "rq"

    def submit(self, job_id: str) -> None:
        self.queue.enqueue(
            "server.jobs.worker.execute",
            job_id,
            job_id=f"wangge-{job_id}",
            job_timeout=self.timeout,
            result_ttl=3600,
            failure_ttl=86400,
        )


def init_runner(app: Flask) -> None:
    settings = app.extensions["wangge_settings"]
    if settings.redis_url:
        runner = RedisRunner(settings.redis_url, settings.job_timeout_seconds)
    else:
        runner = LocalRunner(app, settings.job_threads)
    app.extensions["wangge_jobs"] = runner


def runner(app: Flask) -> LocalRunner | RedisRunner:
    return app.extensions["wangge_jobs"]
