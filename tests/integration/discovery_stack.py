"""The stack the discovery tests run: a cycle, a missing and a FIFO queue, a bus and a bucket, many functions."""

from __future__ import annotations

ARN = "arn:aws:{}:us-east-1:123456789012:{}"

# a -> b -> a is a cycle; a's failures go to a queue nobody made; b's to a FIFO queue;
# c sends to a bus and a bucket; plain has no destinations; 60 more functions make ListFunctions page.
STACK = """
[[functions]]
name = "a"
handler = "handlers.py:echo"
on_success = "function:b"
on_failure = "queue:gone"

[[functions]]
name = "b"
handler = "handlers.py:echo"
on_success = "function:a"
on_failure = "queue:records.fifo"

[[functions]]
name = "c"
handler = "handlers.py:echo"
on_success = "bus:results"
on_failure = "bucket:failed-records"

[[functions]]
name = "plain"
handler = "handlers.py:echo"

[[queues]]
name = "records"
fifo = true

[[buses]]
name = "results"

[[buckets]]
name = "failed-records"
""" + "".join(
    f'\n[[functions]]\nname = "bulk-{n:02d}"\nhandler = "handlers.py:echo"\non_failure = "bus:results"\n'
    for n in range(60)
)
HANDLERS = """
def echo(event, context):
    if isinstance(event, dict) and event.get("fail"):
        raise RuntimeError("asked to fail")
    return event
"""
