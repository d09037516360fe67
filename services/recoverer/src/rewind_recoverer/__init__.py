"""Rewind recoverer service."""
