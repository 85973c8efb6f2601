from django.db import transaction
from django_tasks_db import DatabaseBackend


def enqueue_durably(task, **kwargs) -> None:
    """Enqueue inside the current transaction when the backend stores tasks in the same
    database (the task exists exactly when the state change does); otherwise right after
    commit, so an in-process backend never runs external calls inside the transaction."""
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(**kwargs))
