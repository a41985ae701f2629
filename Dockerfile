# syntax=docker/dockerfile:1
# Build stage: install with the dev dependencies (npm ci applies patches/ through patch-package), compile.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies only, the compiled program and the migrations; runs as `node`.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    PORT=3000
WORKDIR /app
# The MTTR chart of /incident stats is painted by resvg with the system's fonts: the slim image has none.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY patches ./patches
# npm ci runs our postinstall, patch-package, which applies patches/ (the program refuses to start on
# PostgreSQL without it: src/db/postgres-patch.ts).
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The same as `npm start` without the build step, which already ran above. The heap limit is explained in
# the README (Performance): it keeps V8 from sizing the heap for the whole machine's memory.
CMD ["node", "--max-old-space-size=384", "--max-semi-space-size=8", "--liftoff-only", "dist/main.js"]
