"""The `mailservice` command line."""
