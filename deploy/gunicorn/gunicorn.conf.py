"""gunicorn settings shared by every service's web process (local run, compose and Kubernetes)."""

import os
import shutil
import tempfile

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
keepalive = 75  # longer than nginx's upstream keepalive_timeout, so nginx closes first
timeout = 30
graceful_timeout = 20
max_requests = 10000
max_requests_jitter = 1000
accesslog = None
errorlog = "-"
# One machine runs several gunicorn masters (one per service): the default control socket path is shared.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The gateway decides what is too long, as problem+json (414, 400), never gunicorn's bare-text 400: nginx reads
# requests in 8k header buffers (deploy/nginx/render.py HEADER_BUFFER), so a request line or header field nginx
# passes on is at most 8190 bytes, gunicorn's largest limit; and nginx bounds the count of fields by its 4 buffers.
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 32768

# Multiprocess metrics: every worker writes its samples under this directory, /metrics sums them.
# Set before prometheus_client is first imported: it picks its value class at import time.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prom-")


def on_starting(server):  # gunicorn hook signature
    """Start from an empty directory: samples of a previous run would be added to ours."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):  # gunicorn hook signature
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
