"""Document OCR API: ID cards and household registers become filled forms."""
