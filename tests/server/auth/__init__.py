"""Tests of authentication, token checks and the role table."""
