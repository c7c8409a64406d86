# One image for api and worker (the command picks which). Build: docker build -t hes .
# Node 24 is the LTS in support (Node 20 reached its end of life in 2026; the code also runs on 20.19+ and 22).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Production dependencies only: the embedded PostgreSQL and the simulators' certificate generator are
# devDependencies (demo and simulators), and the simulators and the demo launcher are left out of dist.
# TypeScript survives the prune as an optional peer of valibot (Bull Board): nothing runs it (23 MB).
RUN npm run build && npm prune --omit=dev \
  && rm -rf dist/apps/simulator dist/scripts/demo.js dist/scripts/demo-fleet.js dist/scripts/embedded-postgres.js \
    node_modules/typescript

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./
USER node
EXPOSE 3000
CMD ["node", "dist/apps/api/src/main.js"]
