# The notification worker: the same code as `npm run worker`. docker-compose.yml runs two.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# tsx is a runtime dependency: the worker runs the TypeScript sources as they are.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
USER node
# Worker.run() drains in-flight tasks on SIGTERM, which is what `docker stop` sends.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "src/workers/main.ts"]
