# The CloudAct harness emulators (BigQuery REST v2, Cloud KMS REST v1, OpenAI, Anthropic) in one
# container, for `harness.containers.EmulatorContainer` (testcontainers) and for anyone who wants
# the emulators without a Python checkout:
#
#   docker build -t cloudact-harness-emulators .
#   docker run --rm -p 9050-9053:9050-9053 cloudact-harness-emulators
#
# BigQuery answers on 9050, Cloud KMS on 9051, OpenAI on 9052, Anthropic on 9053 (port base 9050,
# harness.emulators.DEFAULT_PORT_BASE). The base image is named by its plain name, so it comes from
# whatever registry (or mirror) the Docker daemon is configured for.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the package build reads: the two packages (pyproject includes harness* and fakes*),
# their metadata and the readme pyproject names, and the pinned versions.
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY harness ./harness
COPY fakes ./fakes

# The package and its runtime dependencies only (no dev or containers extra), at the pinned versions
# ./run_e2e.sh setup installs. tests/test_containers.py checks `harness emulators up` needs no more.
RUN pip install -c constraints.txt .

# Run as an unprivileged user, from a directory that is not the source tree (so the installed
# package is what runs).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin harness
USER harness
WORKDIR /home/harness

EXPOSE 9050 9051 9052 9053

# No curl in the slim image: a TCP connect to each of the four ports, from Python.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import socket; [socket.create_connection(('127.0.0.1', p), 3).close() for p in range(9050, 9054)]"]

# Listen on every interface: inside a container the loopback default is unreachable from the host.
CMD ["harness", "emulators", "up", "--host", "0.0.0.0", "--port-base", "9050"]
