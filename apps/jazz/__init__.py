"""Jazz improvisation app."""
