"""The rules of the phone-number inventory, free of HTTP and SQL."""
