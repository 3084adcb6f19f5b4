"""Web push: VAPID keys, the outbox writer, the pywebpush adapter and the delivery worker.

A change of a request writes its push messages to the outbox in the same transaction
(`outbox.PushOutboxWriter`); `worker.PushWorker` sends them after commit, so a slow or
unreachable push service never slows a request down.
"""
