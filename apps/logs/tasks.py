from celery import shared_task


@shared_task(name="logs.drop_expired", acks_late=True, ignore_result=True)
def drop_expired():
    """Beat: drop each cluster's log lines (day partitions) past its retention."""
    from . import services

    return {str(k): v for k, v in services.drop_expired().items()}
