"""Cases: intake, parties, sessions, agreements and the clerk's views."""
