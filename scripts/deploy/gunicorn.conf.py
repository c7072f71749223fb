"""gunicorn settings of the cati-web service (docs/deployment.md).

    gunicorn -c /srv/cati/scripts/deploy/gunicorn.conf.py

nginx terminates TLS in front (CATI_PROXY_FIX=1). Workers hold no state of their own (sessions
are signed cookies, work lives in the database), so any worker, or any web machine, can answer
any request. The scheduler never runs here: it is the cati-scheduler service.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

wsgi_app = "cati.web:create_app()"
bind = "127.0.0.1:8000"  # only nginx talks to gunicorn

# Processes x threads: a Twilio webhook spends most of its time waiting on the database. Each
# process keeps a pool of up to 5 (+10 overflow) database connections; mind PostgreSQL's
# max_connections (100 by default) across every web machine.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# Twilio waits 15 s for a webhook's answer and then gives up on it; nginx cuts IVR requests at
# 20 s (nginx.conf.example). `timeout` only replaces a worker that stopped responding
# altogether; `graceful_timeout` lets requests in flight finish on restart.
timeout = 30
graceful_timeout = 30
keepalive = 5  # nginx keeps upstream connections open
max_requests = 5000  # recycle workers now and then (bounds any slow leak) ...
max_requests_jitter = 500  # ... not all at once
worker_tmp_dir = "/dev/shm"  # the workers' heartbeat files: not on a slow disk
proc_name = "cati-web"
# systemd starts, reloads (HUP) and stops gunicorn; no control socket in the service user's
# home (gunicorn >= 25.1; older versions ignore the setting).
control_socket_disable = True

# Logs on stdout/stderr, which journald keeps; the format follows CATI_LOG_FORMAT.
# Access lines carry the request line: IVR URLs hold an attempt id only, no personal data.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'


class CatiLogger(Logger):
    """gunicorn's own lines (boot, worker exits, access) in CATI_LOG_FORMAT, and the root
    handler for the application's, set up once in the master and inherited by the workers."""

    def setup(self, cfg):
        super().setup(cfg)
        from cati.config import Settings, SettingsError
        from cati.logs import configure_logging, make_formatter

        try:
            settings = Settings.from_env()
        except SettingsError as exc:  # gunicorn prints a RuntimeError and exits
            raise RuntimeError(str(exc)) from None
        configure_logging(settings)
        formatter = make_formatter(settings.log_format)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)


logger_class = CatiLogger
