from celery import shared_task


@shared_task(name="events.prune", acks_late=True, ignore_result=True)
def prune():
    """Beat: remove the events older than EVENTS_RETENTION_DAYS."""
    from . import services

    return services.prune()
