# labelq GPU worker: CUDA 12 + cuDNN 9 runtime, Node 24, onnxruntime-node with its CUDA 12 execution provider.
# One worker process per GPU (LABELQ_CUDA_DEVICE_ID picks it); run with an NVIDIA device reservation.
FROM node:24-bookworm-slim AS node

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS deps
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY producer/package.json producer/
COPY worker/package.json worker/
COPY test/package.json test/
# Downloads onnxruntime-node's CUDA 12 providers at build time (needs network while building).
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
RUN npm ci --omit=dev --no-audit --no-fund

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
COPY --from=node /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
ENV NODE_ENV=production LABELQ_DEVICE=cuda LABELQ_BATCH_SIZE=64 LABELQ_METRICS_PORT=9464 UV_THREADPOOL_SIZE=16
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY shared shared
COPY producer producer
COPY worker worker
RUN useradd --uid 10001 --create-home labelq && mkdir -p /app/models && chown labelq /app/models
USER labelq
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s CMD node -e "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "worker/bin/labelq.js"]
CMD ["worker"]
