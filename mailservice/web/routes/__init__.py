"""The inbox's pages, one module per part of the UI."""
