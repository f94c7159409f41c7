"""Gunicorn settings for production; every value can be overridden on the command line."""

import os

bind = os.environ.get("WANGGE_BIND", "0.0.0.0:8000")
# Each worker holds its own models (OCR, speech) in memory: size workers to RAM, not only cores.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WANGGE_THREADS", "4"))
worker_class = "gthread"
# OCR of a large photo or a long dictation can take several seconds on small servers.
timeout = int(os.environ.get("WANGGE_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("WANGGE_MAX_REQUESTS", "0"))
max_requests_jitter = 50
accesslog = os.environ.get("WANGGE_ACCESS_LOG", "-")
# Paths only: query strings carry search terms (names, ID numbers) and the WebSocket's
# access_token, none of which belong in a log file.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("WANGGE_LOG_LEVEL", "info")
# The load balancer in front rewrites X-Forwarded-*; trust it only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Each worker loads the OCR and speech models once at start, so the first scan or
# dictation is not slow.
os.environ.setdefault("WANGGE_OCR_PRELOAD", "1")
os.environ.setdefault("WANGGE_SPEECH_PRELOAD", "1")


def post_worker_init(worker):
    """Move everything the worker loaded at start (the app, its models) out of the cycle
    collector's reach: a full collection then scans only what requests create, instead of
    pausing a large sync push for ~0.1 s to walk hundreds of thousands of long-lived objects.
    """
    import gc

    gc.freeze()
