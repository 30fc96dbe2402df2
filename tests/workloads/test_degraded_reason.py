"""A degraded workload's reason quotes its pods' own reasons, bounded by the column."""

from apps.workloads.status import REASON_LENGTH, pods_reason, rollout_reason


def test_each_reason_names_its_pods():
    troubles = [("web-abc", "CrashLoopBackOff"), ("web-def", "ImagePullBackOff")]
    assert (
        pods_reason(3, 1, troubles)
        == "2 of 3 pods not ready: CrashLoopBackOff (web-abc), ImagePullBackOff (web-def)"
    )
    troubles.append(("web-ghi", "CrashLoopBackOff"))
    assert pods_reason(3, 0, troubles) == (
        "3 of 3 pods not ready: CrashLoopBackOff (web-abc, web-ghi), ImagePullBackOff (web-def)"
    )


def test_no_pods_known_yet_is_the_count_alone():
    assert pods_reason(3, 1, []) == "2 of 3 pods not ready"


def test_many_pods_are_cut_saying_how_many_are_left_out():
    troubles = [(f"web-{i:020d}", "CrashLoopBackOff") for i in range(40)]
    troubles += [(f"api-{i:020d}", "ImagePullBackOff") for i in range(40)]
    reason = pods_reason(80, 0, troubles)
    assert len(reason) <= REASON_LENGTH
    assert reason.startswith("80 of 80 pods not ready: CrashLoopBackOff (web-")
    shown = reason.count("web-") + reason.count("api-")
    assert reason.endswith(f"… +{80 - shown}")


def test_a_rollout_names_only_the_pods_that_cannot_start():
    starting = [("web-new1", "ContainerCreating"), ("web-new2", "Running, not ready")]
    assert rollout_reason('ReplicaSet "web-5f" is progressing.', starting) == (
        'ReplicaSet "web-5f" is progressing.'
    )
    stuck = [*starting, ("web-new3", "ImagePullBackOff"), ("web-new4", "CrashLoopBackOff")]
    assert rollout_reason("", stuck) == (
        "Rolling out; 2 pods cannot start: ImagePullBackOff (web-new3), CrashLoopBackOff (web-new4)"
    )
