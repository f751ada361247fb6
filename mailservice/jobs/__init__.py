"""Background jobs: the Dramatiq broker (set up in one place) and its helpers."""
