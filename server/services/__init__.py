"""Use cases. Each function owns its transaction and takes the acting user."""
