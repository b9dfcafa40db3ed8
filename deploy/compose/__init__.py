"""docker-compose.yml, rendered from its template for every service of the catalogue."""
