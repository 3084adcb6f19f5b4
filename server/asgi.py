"""The ASGI application for uvicorn and other servers: `server.asgi:app`."""

import gc

from server.app import create_app

app = create_app()

# What is imported and built by now lives as long as the process. Frozen, it is left out of
# the collector's full passes, which then scan only what requests and open sockets made: with
# a thousand live pages open a full pass over everything stalled the loop for about 0.3 s,
# which every page waiting for a message then waited too (docs/live.md, «Garbage collection»).
gc.freeze()
