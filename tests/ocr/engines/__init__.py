"""Tests for the OCR engine backends on the committed fixtures."""
