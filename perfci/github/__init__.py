"""GitHub: the REST client, the Actions context and the sticky pull-request comment."""
