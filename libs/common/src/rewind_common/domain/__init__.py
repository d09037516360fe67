"""The pure domain core: normalization, hashing, diffing, planning, id remapping.

Nothing here performs I/O; adapters (Graph, MongoDB, Redis) live elsewhere and call in.
"""
