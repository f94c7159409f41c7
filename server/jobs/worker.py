"""The queue worker: ``flask --app wsgi worker`` runs jobs from Redis in this process."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from server.jobs.execute import run_job, runner_name

_app: Flask | None = None


def execute(job_id: str) -> str | None:
    """RQ's entry point: the worker's app is built once per process, never per job."""
    global _app
    if _app is None:
        from server import create_app

        _app = create_app()
    return run_job(_app, job_id, runner_name("rq"))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty (tests, cron).")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run background jobs (exports, imports) from the Redis queue (needs WANGGE_REDIS_URL)."""
    global _app
    from redis import Redis
    from rq import SimpleWorker

    from server.jobs.runners import QUEUE

    settings = current_app.extensions["wangge_settings"]
    if not settings.redis_url:
        raise click.ClickException("WANGGE_REDIS_URL is not set; jobs run inside the web process")
    _app = current_app._get_current_object()
    # SimpleWorker runs jobs in this process: models and connections are loaded once, and a
    # crash takes the heartbeat down with it, so the job is failed rather than stuck.
    SimpleWorker([QUEUE], connection=Redis.from_url(settings.redis_url)).work(
        burst=burst, with_scheduler=False
    )
