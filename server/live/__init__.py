"""Live updates: the event bus between processes (`bus`, `backends`), the hub that fans its
messages out (`hub`), one view per kind of open page (`views`), the pure list diff
(`list_diff`), the fragments (`render`) and the socket endpoints (`routes`)."""
