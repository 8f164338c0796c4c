"""Pure-Python rules of a KAP session: protocol, clock, timeline. No Qt, no SQL."""
