"""Shared core of Rewind: settings, the object-type registry, the pure domain core,
and the adapters (Graph, MongoDB, Redis) every service uses."""

__version__ = "0.1.0"
