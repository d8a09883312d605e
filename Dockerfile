# syntax=docker/dockerfile:1
# Build stage: resolve and build wheels once; the runtime image gets only the installed packages.
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY core ./core
COPY dashboard ./dashboard
RUN pip install --no-cache-dir .

# Runtime stage: non-root, no compilers, the same app as `make run`. Unlike `make run` (127.0.0.1 unless HOST says
# otherwise), the container listens on every interface (STREAMLIT_SERVER_ADDRESS=0.0.0.0): a container is reached
# through its published port, and publishing it (-p 127.0.0.1:8501:8501 or wider) is the explicit choice.
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOCAL_STORE_PATH=/data/store \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0
RUN groupadd --system --gid 10001 monitor \
    && useradd --system --uid 10001 --gid monitor --home-dir /app --shell /usr/sbin/nologin monitor \
    && mkdir -p /data/store \
    && chown -R monitor:monitor /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=monitor:monitor .streamlit ./.streamlit
COPY --chown=monitor:monitor dashboard ./dashboard
USER 10001:10001
EXPOSE 8501
# The local store is only for the demo; in Swift mode (STORE=swift) nothing is written to disk.
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_stcore/health' % os.environ['STREAMLIT_SERVER_PORT'], timeout=4)"]
# serve.py is app.py behind frame-denying headers (X-Frame-Options, CSP frame-ancestors): no clickjacking.
CMD ["streamlit", "run", "dashboard/serve.py"]
