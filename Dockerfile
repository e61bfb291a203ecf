# IMService image: a build stage that installs everything and type-checks, a production-only
# dependency stage, and a slim runtime that runs as the unprivileged `node` user.
# Build: docker build -t imservice .   Guide: docs/deployment.md
#
# The runtime loads the TypeScript hubs with tsx, which is a regular dependency, so the
# production install below is all it needs.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Nothing that fails the type check becomes an image.
RUN npm run typecheck

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    IM_HOST=0.0.0.0 \
    IM_PORT=5000 \
    IM_INTERNAL_HOST=0.0.0.0 \
    IM_INTERNAL_PORT=9090
WORKDIR /app
# Owned by root and read-only to the node user: the process cannot change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json /app/tsconfig.json /app/im.config.ts ./
COPY --from=build /app/cli ./cli
COPY --from=build /app/src ./src
COPY --from=build /app/hubs ./hubs
# Read the hubs' declared types now, into node_modules/.cache/imservice: a container's start then
# loads no TypeScript compiler (about 2 s and 140 MB less), and a hub that cannot work fails the build.
RUN node cli/bin.mjs serve --dry-run
USER node
# 5000: clients (hubs, negotiate, /healthz/*). 9090: the internal listener (probes, /metrics,
# /api/publish); keep it off the public Service and ingress.
EXPOSE 5000 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["node", "cli/healthcheck.mjs"]
# Exec form, node as PID 1 with no npm or shell in between: SIGTERM reaches the node, which drains.
CMD ["node", "cli/bin.mjs", "serve"]
