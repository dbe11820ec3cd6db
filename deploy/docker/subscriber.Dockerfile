# subscriber.Dockerfile -- the image of the Python integration example
# (deploy/examples/python/subscriber.py): Python 3 with Debian's python3-zmq,
# python3-protobuf and protoc, the .proto files it generates its classes
# from at start-up, and the Python client it calls through (meso_client.py,
# beside it). docker-compose.yml builds it for the "examples" profile:
#
#   docker-compose --profile examples build
#
# A file of its own rather than a stage of Dockerfile: the classic builder
# builds every stage before the target, so it would be rebuilt with every
# daemon image. Same base as the daemons' image (ARG DEBIAN).
#
# The stored cursor lives in /var/lib/meso-subscriber (a volume in
# docker-compose.yml), owned by the unprivileged user "meso", so a restart
# resumes after the last event printed instead of printing the stream again.
ARG DEBIAN=debian:12-slim
FROM ${DEBIAN}
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        python3 python3-zmq python3-protobuf protobuf-compiler \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin meso \
 && mkdir -p /var/lib/meso-subscriber \
 && chown meso:meso /var/lib/meso-subscriber
COPY proto /usr/share/meso/proto
COPY deploy/examples/python/subscriber.py /usr/local/bin/meso-subscriber.py
COPY clients/python/meso_client.py /usr/local/bin/meso_client.py
USER meso
ENTRYPOINT ["/usr/bin/python3", "/usr/local/bin/meso-subscriber.py", "--proto-dir", "/usr/share/meso/proto"]
CMD ["--stream", "session", "--cursor-file", "/var/lib/meso-subscriber/session.cursor"]
