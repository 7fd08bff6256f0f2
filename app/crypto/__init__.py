"""Cryptography of the Flow endpoint: keys, envelopes, signatures, flow tokens."""
