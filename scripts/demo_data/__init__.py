"""The demo-data build (``python -m scripts.demo_data``): see ``__main__``."""
