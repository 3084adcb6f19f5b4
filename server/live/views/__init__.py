"""Live views: what one open page watches, how it catches up, and who may watch it.

A view is one open WebSocket: the request page, a dispatcher's board, a contractor's or
worker's job list, the worker's phone list, a resident's own requests, or the city
administration's counts. Views never trust the bus for content: a message only says "request
N changed"; the view re-reads from the database *as its audience* (`server.live.audience`:
the page's own queries for lists, `workflow.may_view` over one shared read for a request), so
a viewer only ever receives what they may see, and a view that missed messages loses nothing
by re-reading.

Catch-up protocol (request page): the page knows the last timeline entry it shows and sends it
in its hello. The view subscribes first, then reads the database and sends every entry after it,
then keeps streaming. It remembers the entry ids it sent; the page drops ids it already has.
Lists (board, jobs) are sent whole on (re)connect and then kept in step by small row-level diffs
(`server.live.list_diff`).
"""
