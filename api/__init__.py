"""The FastAPI application: composes every capability package behind HTTP."""
