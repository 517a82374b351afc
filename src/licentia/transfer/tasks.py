from django_tasks import task

from licentia.core.audit import Actor
from licentia.core.models import ActorKind
from licentia.transfer.models import ImportBatch, ImportStatus
from licentia.transfer.reading import table_read
from licentia.transfer.services import import_run


@task()
def import_process(batch_id: int) -> str:
    """A file uploaded in the cabinet, imported by the worker; the batch shows the progress."""
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).first()
    if batch is None:
        return "not queued"
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.RUNNING)
    batch.status = ImportStatus.RUNNING
    actor = Actor(kind=ActorKind.STAFF, label=batch.actor_label, user=batch.actor_user)
    table = table_read(bytes(batch.source), file_name=batch.file_name)
    return import_run(batch=batch, table=table, actor=actor).status
