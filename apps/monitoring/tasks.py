from celery import shared_task


@shared_task(name="monitoring.sample_all", acks_late=True, ignore_result=True)
def sample_all():
    """Beat: one raw sample of every running cluster that has no Prometheus."""
    from . import sampler

    return sum(sampler.sample(cluster) for cluster in sampler.sampled_clusters())


@shared_task(name="monitoring.downsample", acks_late=True, ignore_result=True)
def downsample():
    """Beat: fold raw samples into coarse ones and drop what is past its retention."""
    from . import sampler

    return sampler.downsample()
