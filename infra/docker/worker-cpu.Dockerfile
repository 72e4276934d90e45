# labelq CPU worker (and producer/CLI): slim Node 24 image, non-root, TypeScript run directly by Node 24.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY producer/package.json producer/
COPY worker/package.json worker/
COPY test/package.json test/
# The CPU library of onnxruntime-node ships in the package; skip the CUDA download.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production LABELQ_DEVICE=cpu LABELQ_METRICS_PORT=9464 UV_THREADPOOL_SIZE=8
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY shared shared
COPY producer producer
COPY worker worker
RUN mkdir -p /app/models && chown node:node /app/models
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD node -e "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "worker/bin/labelq.js"]
CMD ["worker"]
