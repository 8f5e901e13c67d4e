"""Adapters between the pipeline and client libraries."""
