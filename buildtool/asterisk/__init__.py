"""Asterisk itself as the user: its source root, its own build and its own ``module.h``."""
