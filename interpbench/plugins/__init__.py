"""The built-in plugins: each module is an entry point of the interpbench group (pyproject.toml),
loaded through the same door as a third-party plugin."""
