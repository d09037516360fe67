"""Rewind snapshotter: the Celery worker that takes snapshots of tenants, verifies their
integrity and applies retention."""
