"""What the OpenAI and Anthropic fakes share: the abstract provider state (``base``) built from one
module per job (``keys``, ``ratelimits``, ``faults``, ``requests``, ``usage``, ``paging``), and
``served``, which enacts a fault's delay on the wire when a provider fake is served on a port.
Mounting both fakes in-process through respx needs both services, so it lives above them in
:mod:`fakes.provider_mocks`."""
