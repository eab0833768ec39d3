"""The marketer's dashboard, written after every run that wrote the warehouse."""
