"""Numbering-plan knowledge, from the `phonenumbers` library."""
