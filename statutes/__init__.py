"""The statute library."""
