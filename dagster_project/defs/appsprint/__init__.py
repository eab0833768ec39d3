"""AppSprint attribution data loaded with dlt."""
