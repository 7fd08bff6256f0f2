"""The Flow data endpoint core: protocol vocabulary, routing, field checks, answer checks, emulator.

Plain Python, no Flask: `service.EndpointService` takes raw bytes and returns a `Reply`;
`app/web/endpoint.py` is its HTTP shell.
"""
