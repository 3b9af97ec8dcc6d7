# The service image. Deployment uses an external PostgreSQL (docker-compose.yml); the embedded server is
# only for a single machine without a database URL.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 EXCHANGE_HOME=/var/lib/exchange
WORKDIR /app
COPY pyproject.toml README.md ./
COPY exchange ./exchange
COPY matching ./matching
COPY protocols ./protocols
COPY migrations ./migrations
RUN pip install --no-cache-dir -e . && useradd --system --home /var/lib/exchange exchange \
    && mkdir -p /var/lib/exchange && chown exchange /var/lib/exchange
# The matching library's hot modules compiled by mypyc (matching/compiled.py; the build goes under
# /usr/local/matching-compiled). Without a compiler the image runs them as plain Python: same results, slower.
RUN (apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
     && pip install --no-cache-dir "mypy>=1.10" && python -m matching compile) \
    || echo "matching: no compiled build; plain Python"; \
    pip uninstall -y -q mypy mypy_extensions; apt-get purge -y -q gcc libc6-dev; apt-get autoremove -y -q; \
    rm -rf /var/lib/apt/lists/*; true
USER exchange
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=3)"
CMD ["exchange", "serve", "--host", "0.0.0.0", "--port", "8080"]
