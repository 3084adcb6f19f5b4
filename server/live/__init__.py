"""Live updates: the event bus between processes and the channels to open pages."""
