"""Rules of the service in plain Python: states, permissions, routing, deadlines.

Nothing here imports Litestar or SQLAlchemy, so the rules read like the tables in PRODUCT.md
and are tested directly.
"""
