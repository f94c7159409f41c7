"""Tests for the speech package: decoding, text clean-up, engines and streaming."""
