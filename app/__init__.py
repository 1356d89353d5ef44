"""FastAPI service and CLI around the ``spatial`` screening runtime."""
