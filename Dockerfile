FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
# V8 heap bounds keep the API under 200 MB RSS at full load instead of growing lazily (docs/benchmarks.md).
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=128", "--heap-growing-percent=100", "dist/src/main.js"]
