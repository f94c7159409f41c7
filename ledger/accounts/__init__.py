"""User accounts: who works in which area, with which role."""
