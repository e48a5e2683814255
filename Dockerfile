# numberpool as a container: `docker build -t numberpool .` then
#   docker run -p 8080:8080 -v numberpool-data:/data numberpool
# NOT BUILT HERE: the machine this was written on cannot build or run images. What is checked
# (tests/test_packaging.py) is that every command below exists in the package with these flags,
# and that the wheel it installs holds everything the service needs.
#
# The service speaks plain HTTP inside the container: terminate TLS at the load balancer, or mount
# a certificate and add `--cert /certs/cert.pem --key /certs/key.pem` (and use https:// in the
# HEALTHCHECK URL). Without --database it keeps SQLite in the /data volume.

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --home-dir /data numberpool \
    && mkdir /data && chown numberpool /data
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER numberpool
WORKDIR /data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["numberpool", "healthcheck", "--url", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["numberpool"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--no-tls", "--data-dir", "/data"]
