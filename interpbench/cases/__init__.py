"""Cases: the catalogue's declaration helper, vocabularies and data generation."""
