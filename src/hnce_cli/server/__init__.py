"""`hnce serve`: the HTTP API in front of the same services the CLI uses locally."""
