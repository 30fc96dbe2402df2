"""Signals of the mirrored layer.

``mirrored`` is sent after rows of a mirrored kind changed, by every write path (a
watch batch, a list, a service's write-through or forget), with the ``cluster`` and the
``namespaces`` whose rows changed (empty for cluster-scoped kinds). Other apps follow
kinds they do not own through it: an application's status follows its workloads.
"""

from django.dispatch import Signal

mirrored = Signal()
