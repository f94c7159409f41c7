"""OCR backends; both run PaddleOCR's PP-OCR models."""
