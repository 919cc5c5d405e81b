# Tidegate's container images (docs/container.md). No Docker daemon runs on the development
# machines, so nothing here is built by `make test`: tests/deploy/test_container.py checks this file
# (and deploy/compose.yaml) statically instead.
#
#   docker build -t tidegate-bff:0.1.0 .                                  the BFF (the last stage)
#   docker build --target simulators -t tidegate-simulators:0.1.0 .       the four back-office simulators
#
# Every Python package comes from a committed lock, hash-checked; nothing is resolved during a build.
# requirements-runtime.lock (the BFF) and requirements-simulators.lock are subsets of requirements.lock
# with the same pins and hashes (`make lock` derives them, `make lock-check` proves they are current).

# One exact Python, the one the lock is resolved for (3.11). Renew it on purpose, like `make upgrade`.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---------------------------------------------------------------------------------------------------
# builder: both virtual environments and the product's wheel. Thrown away: uv and the build backend
# never reach an image that runs.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
WORKDIR /src
# uv itself, pinned and hashed, exactly as the Makefile installs it.
COPY requirements-bootstrap.lock ./
RUN python -m venv /opt/uv \
    && /opt/uv/bin/python -m pip install --require-hashes --no-deps -r requirements-bootstrap.lock
COPY requirements.lock requirements-runtime.lock requirements-simulators.lock ./
# The BFF's dependencies: the runtime subset of the lock (no test tools, no Faker).
RUN /opt/uv/bin/uv venv --python /usr/local/bin/python3.11 /opt/tidegate \
    && /opt/uv/bin/uv pip sync --python /opt/tidegate/bin/python --require-hashes requirements-runtime.lock
# The simulators' dependencies: the runtime subset and the `simulators` extra (Faker).
RUN /opt/uv/bin/uv venv --python /usr/local/bin/python3.11 /opt/simulators \
    && /opt/uv/bin/uv pip sync --python /opt/simulators/bin/python --require-hashes requirements-simulators.lock
# The wheel holds the product only (gateway, schema, services, backends, infra, domain, gql). Its
# build backend (setuptools) comes from requirements.lock too, hash-checked as a build constraint; the
# wheel goes in without dependencies (they are all in the venv already), and `uv pip check` proves that.
COPY pyproject.toml ./
COPY gateway/ gateway/
COPY schema/ schema/
COPY services/ services/
COPY backends/ backends/
COPY infra/ infra/
COPY domain/ domain/
COPY gql/ gql/
RUN /opt/uv/bin/uv build --wheel --out-dir /wheels --build-constraints requirements.lock --require-hashes . \
    && /opt/uv/bin/uv pip install --python /opt/tidegate/bin/python --no-deps /wheels/tidegate-*.whl \
    && /opt/uv/bin/uv pip check --python /opt/tidegate/bin/python

# ---------------------------------------------------------------------------------------------------
# simulators: other companies' systems, for a trial or a drill. They run from a checkout (they are
# not in the wheel): `tidegate simulate SERVICE` from gateway/cli.py, with the simulators beside it.
# `docker run tidegate-simulators:0.1.0 billing --host 0.0.0.0` (ports: deploy/compose.yaml).
FROM ${PYTHON_IMAGE} AS simulators
RUN groupadd --system --gid 10001 tidegate \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin tidegate
COPY --from=builder /opt/simulators /opt/simulators
WORKDIR /opt/checkout
COPY gateway/ gateway/
COPY simulators/ simulators/
RUN /opt/simulators/bin/python -m compileall -q gateway simulators
ENV PATH=/opt/simulators/bin:$PATH \
    PYTHONPATH=/opt/checkout \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8101 8102 8103 8104
ENTRYPOINT ["python", "-m", "gateway.cli", "simulate"]
CMD ["--help"]

# ---------------------------------------------------------------------------------------------------
# bff: the product. Settings come from TIDEGATE_* variables (gateway/settings/); the relative paths
# among them (the audit file, the local issuer's key) land in /var/lib/tidegate, the one directory the
# process may write: mount a volume there.
FROM ${PYTHON_IMAGE} AS bff
RUN groupadd --system --gid 10001 tidegate \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin tidegate \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/tidegate
COPY --from=builder /opt/tidegate /opt/tidegate
ENV PATH=/opt/tidegate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TIDEGATE_HOST=0.0.0.0 \
    TIDEGATE_PORT=8000
WORKDIR /var/lib/tidegate
USER 10001:10001
EXPOSE 8000
# Liveness only (gateway/observability/health.py): a back office being down must not restart the BFF. Python,
# because the slim base has no curl; the port is the one the BFF reads, so overriding it keeps working.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ['TIDEGATE_PORT'] + '/healthz', timeout=2)"]
ENTRYPOINT ["tidegate"]
CMD ["serve"]
