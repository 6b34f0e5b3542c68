"""The portal: FastAPI with server-rendered pages, the ingest API and the chat webhooks."""
