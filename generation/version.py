"""Version of the generation package, recorded in every track's provenance."""

GENERATOR_VERSION = "0.1.0"
