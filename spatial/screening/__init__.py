"""Screening one site: its context and index lookup, the rule predicates, rule evaluation and
verdict composition, and the nearest-constraint block (docs/ARCHITECTURE.md)."""
