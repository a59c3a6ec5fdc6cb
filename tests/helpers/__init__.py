"""What several test files share (never a test module used as a library, never conftest)."""
