"""The identity service: organisations, users, role grants, local sign-in, tokens and keys."""
