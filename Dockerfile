# syntax=docker/dockerfile:1
# The operator's image. Built on Node 24 (npm ci, tsc, rolldown); run on distroless Node 24: no shell, no package
# manager, only glibc, CA certificates and node. It runs as the numeric non-root user 65532 and writes
# nothing at run time, so readOnlyRootFilesystem works. `make image` builds it with docker or podman;
# test/deploy/dockerfile.test.ts lints it, and test/deploy/package.test.ts runs what it ships.

# The Node of package.json's devDependency "node", so the build runs on what the tests run on.
ARG NODE_VERSION=24.21.0

# Build: every dependency, then tsc (type-check) and rolldown (src/main.ts bundled into dist/main.js).
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json rolldown.config.ts ./
COPY src/ src/
RUN npm run build

# Production dependencies only, from the same lock file. None of them has an install script.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Run time. Distroless publishes no version tags, so the image is pinned by digest (its Node is the
# latest 24.x at that digest); refresh it with `crane digest gcr.io/distroless/nodejs24-debian12:nonroot`.
FROM gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="pod-sync-operator" \
    org.opencontainers.image.description="Kubernetes operator that syncs Pods through shared informers and a rate-limited work queue, with Lease leader election and Prometheus metrics" \
    org.opencontainers.image.version="${VERSION}" \
    org.opencontainers.image.revision="${REVISION}" \
    org.opencontainers.image.created="${CREATED}" \
    org.opencontainers.image.licenses="Apache-2.0" \
    org.opencontainers.image.base.name="gcr.io/distroless/nodejs24-debian12:nonroot"
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the user the operator runs as.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# dist/main.js reads ../package.json for its version.
COPY package.json ./
USER 65532:65532
# /metrics, and /healthz and /readyz.
EXPOSE 8443 8081
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]
