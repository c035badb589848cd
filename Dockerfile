# The notification worker, built for production: compiled JavaScript and a workflow bundle built
# ahead of time (`npm run build`), so a replica starts without tsx or webpack. The same as what
# `npm run cluster` runs (node dist/workers/main.js). docker-compose.yml runs two.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The build id versioned workers run as (docs/operations.md): there is no .git here to take it from.
ARG NOTIFY_BUILD_ID
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
# Worker.run() drains in-flight tasks on SIGTERM, which is what `docker stop` sends.
STOPSIGNAL SIGTERM
CMD ["node", "dist/workers/main.js"]
