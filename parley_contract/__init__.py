"""The wire contract shared by Parley services: schemas, names, settings helpers."""
