"""CNN Playground web app: FastAPI routes, rendering and i18n around the NumPy engine."""
