"""HTTP route modules."""
