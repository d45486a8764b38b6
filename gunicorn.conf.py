# Read by gunicorn when it starts in the project root: `gunicorn app:app`.
# One process owns an embedded data file, so one worker with threads.
from idance_web.serving import post_worker_init, worker_exit  # noqa: F401 - gunicorn hooks

worker_class = "gthread"
workers = 1
threads = 16
