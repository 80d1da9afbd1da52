"""The stages of a day, one module per mechanism; each is a pure function of arrays."""
