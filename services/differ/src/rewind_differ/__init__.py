"""Rewind differ service."""
