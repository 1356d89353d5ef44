"""FastAPI service and CLI around the ``spatial`` screening engine."""
