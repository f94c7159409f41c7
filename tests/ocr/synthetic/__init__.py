"""Tests for the synthetic ID-card and household-register generator."""
