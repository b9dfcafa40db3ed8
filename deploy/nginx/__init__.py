"""The gateway's nginx config renderer (python -m deploy.nginx.render)."""
