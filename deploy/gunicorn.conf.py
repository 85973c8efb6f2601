"""gunicorn for the store: `gunicorn --config deploy/gunicorn.conf.py config.wsgi`.

Behind nginx on the same machine (deploy/nginx/diamonds.conf). Every value can be overridden
from the environment file the systemd unit reads.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
# One process per core (each holds its own GIL) with a few threads, so one request's database
# round-trips overlap with another's Python: on 2 cores `-w 2 --threads 4` beat more processes
# or sync workers (docs/PERFORMANCE.md, "Server configuration"). Each thread may hold its own
# PostgreSQL connection: budget workers x threads x machines against max_connections.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"

# Checkout calls Stripe with network retries (STRIPE_MAX_NETWORK_RETRIES): allow it to finish
# before the worker is killed. nginx's proxy_read_timeout is a little longer than this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 30  # nginx keeps upstream connections open (its `keepalive` in the upstream)

# Recycle workers now and then (a leak stays small), not all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200

# Only nginx on this machine may say the request was HTTPS (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# The request id nginx sets (X-Request-ID) is in the access log and in the app's log lines.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s'
