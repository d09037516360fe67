"""Rewind api service."""
