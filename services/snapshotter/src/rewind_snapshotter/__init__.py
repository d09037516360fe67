"""Rewind snapshotter service."""
