"""Serving the base and tuned models over HTTP (LitServe): request bodies, the questions asked, the model
backends (in-process or a remote OpenAI-compatible server), Prometheus metrics and the server itself.
Start it with `python -m scripts.serve`; docs/api.md describes the endpoints."""
