"""``docframe worker``'s side of the Redis job queue: RQ calls :func:`perform` with a job's name.

The worker process builds its Site once, from the same settings as every docframe
command (``DOCFRAME_DATABASE_URL``, ``DOCFRAME_APP``, ``DOCFRAME_FILES_DIR``), and keeps
it for every job it runs; a job queued on another site (another database or app) is
refused with a message naming both, rather than run against the wrong database.
"""

from __future__ import annotations

import functools
import os

from engine.errors import InvalidValueError
from engine.site import jobs
from engine.site.site import Site


@functools.cache
def worker_site() -> Site:
    """The worker process's Site (one per process, owned by this function's cache)."""
    return Site(os.environ.get("DOCFRAME_DATABASE_URL"), os.environ.get("DOCFRAME_APP") or None)


def perform(job: str, key: str) -> str:
    """Run Import Job ``job`` on this worker's site, reporting progress on the RQ job."""
    import rq

    site = worker_site()
    if key != jobs.site_key(site):
        raise RuntimeError(f"Import Job {job} was queued on another site ({key}); this worker serves "
                           f"{site.engine.url.render_as_string(hide_password=True)} ({jobs.site_key(site)})")
    current = rq.get_current_job()

    def report(p: jobs.Progress) -> None:
        if current is not None:
            current.meta.update({"rows_done": p.rows_done, "rows_total": p.rows_total, "seconds": p.seconds})
            current.save_meta()

    return jobs.run_job(site, job, report)


def run_worker(db_url: str | None, app_dir: str | None, *, burst: bool = False, name: str | None = None) -> bool:
    """Take jobs from the site's Redis queue until stopped (``burst``: until the queue is empty).

    The settings go to the environment, where :func:`worker_site` reads them, so the
    worker's jobs run on the site the command names.
    """
    import rq

    for key, value in (("DOCFRAME_DATABASE_URL", db_url), ("DOCFRAME_APP", app_dir)):
        if value:
            os.environ[key] = value
    worker_site.cache_clear()
    site = worker_site()
    queue = site.jobs
    if not isinstance(queue, jobs.RedisQueue):
        raise InvalidValueError("docframe worker: no job queue is configured; set DOCFRAME_QUEUE_URL "
                                "(e.g. redis://127.0.0.1:6379/0) here and where jobs are queued")
    worker = rq.SimpleWorker([queue.queue], connection=queue.connection, name=name)
    return bool(worker.work(burst=burst, with_scheduler=False))
