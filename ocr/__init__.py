"""Reading photographed identity documents: region codes, synthetic test documents, parsers."""
