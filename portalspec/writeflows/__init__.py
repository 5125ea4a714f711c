"""Write flows: calls grouped by page and time around their writes, with roles and value lineage."""
