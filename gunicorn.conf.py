# Read by gunicorn when it starts in the project root: `gunicorn app:app`.
# One process owns an embedded data file, so one worker with threads. Each open live stream
# (/events) holds a thread for as long as it is open, so the worker has one thread per stream
# it accepts (IDANCE_MAX_STREAMS; more are refused with 503) besides IDANCE_PAGE_THREADS for
# pages: open streams never take the threads pages are served by.
from idance_web.config import from_env
from idance_web.serving import post_worker_init, worker_exit  # noqa: F401 - gunicorn hooks

_config = from_env()
worker_class = "gthread"
workers = 1
threads = _config.page_threads + _config.max_streams
# Connections a worker holds at once: every thread busy, and as many idle keep-alive ones.
worker_connections = 2 * threads
