"""Stack specs (one package per stack)."""
