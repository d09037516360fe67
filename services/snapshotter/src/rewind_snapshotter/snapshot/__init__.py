"""Taking a snapshot: plan, read page by page into staging, seal the segment, compute the
Merkle root, publish the record."""
