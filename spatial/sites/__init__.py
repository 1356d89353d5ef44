"""The proposed site: reading its formats, its CRS, checks, and its footprint."""
