"""The JAX engine: state, the stages of a day, and the scan over days."""
