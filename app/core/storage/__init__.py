"""The database and its files: the only package that speaks SQL."""
