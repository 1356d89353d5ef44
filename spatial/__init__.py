"""Site-screening engine for Chongqing's protected-zone layers (no web framework here)."""

__version__ = "0.1.0"
