"""Screening many sites: chunks, bulk index queries, worker pools, Dask, jobs, output files."""
