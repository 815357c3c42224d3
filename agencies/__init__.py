"""One module per agency: its automated checks as plain functions over domain objects."""
