"""numberpool: a phone-number inventory that speaks the ACS Phone Numbers API."""

__version__ = "0.1.0"
