# syntax=docker/dockerfile:1

# One base for every stage, so node_modules is installed against the same Node ABI
# and libc it runs on. Pin it by digest in CI (node:22-bookworm-slim@sha256:...) for
# reproducible builds. Debian slim (glibc) rather than Alpine (musl): glibc is what
# Node's official binaries and most prebuilt native modules are built and tested on.
ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: the whole dependency tree, TypeScript compiled to dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: runtime dependencies only, installed apart from the build so that no
# dev package can reach the final image
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# --- runtime
FROM ${NODE_IMAGE} AS runtime
# npm, npx, corepack and yarn are never used at runtime; removing them takes their
# bundled dependencies out of the attack surface and out of image scanners' reports.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
    /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production
WORKDIR /app
# Root-owned and so read-only for the app user: the service writes nothing to disk.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Numeric, so Kubernetes' runAsNonRoot can verify it without a passwd lookup; it
# matches runAsUser in deploy/kubernetes/deployment.yaml.
USER 10001:10001
EXPOSE 8000
# No HEALTHCHECK: Kubernetes ignores it in favour of the probes in deployment.yaml,
# and elsewhere GET /status/live on WEBHOOK_PORT is the liveness endpoint to use.
# Exec form: node is PID 1 and receives SIGTERM itself, so the graceful drain runs.
CMD ["node", "dist/main.js"]
