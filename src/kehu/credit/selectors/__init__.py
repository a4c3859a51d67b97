"""Reads of credit management, one module per area; every read a user triggers takes the user."""
