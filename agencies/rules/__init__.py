"""Default rule tables of the agencies, as data (TOML)."""
