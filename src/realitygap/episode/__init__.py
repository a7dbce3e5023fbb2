"""Context, Episode and Dataset types; reading and writing the on-disk format."""
