"""Business logic, one module per noun. Functions take a Session, validate and flush; the
caller (a CLI command or a test) owns the transaction and commits."""
