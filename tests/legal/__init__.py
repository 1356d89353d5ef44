"""Tests for the independent legal review (issue 16): one module per principle."""
