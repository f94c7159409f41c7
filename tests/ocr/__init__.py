"""Tests for the ocr package: region codes and synthetic documents."""
