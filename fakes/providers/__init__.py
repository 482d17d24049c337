"""What the OpenAI and Anthropic fakes share: the abstract provider state (``base``) built from one
module per job (``keys``, ``ratelimits``, ``faults``, ``requests``, ``usage``, ``paging``), and
the two ways to reach a provider fake: mounted in-process through respx (``mount``) or served on
a port (``served``)."""
