# syntax=docker/dockerfile:1
# Image labelq-cpu: the CPU worker and every other labelq command (enqueue, status, results, model fetch,
# dashboard). Slim Node 24, TypeScript run directly by Node 24 (no build step), non-root user 1000 ("node").
#   docker build -f infra/docker/worker-cpu.Dockerfile -t labelq-cpu .
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY producer/package.json producer/
COPY worker/package.json worker/
COPY dashboard/package.json dashboard/
COPY test/package.json test/
# The CPU library of onnxruntime-node ships inside the package: skip the download of the CUDA providers.
# Only the runtime workspaces: the test workspace (playwright-core, yaml) stays out of the image.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --no-audit --no-fund -w shared -w producer -w worker -w dashboard \
  && npm cache clean --force

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="labelq-cpu" \
      org.opencontainers.image.description="labelq worker (CPU) and command-line tools"
WORKDIR /app
# LABELQ_METRICS_PORT serves /metrics, /healthz and /readyz (the health check below and Kubernetes probes).
ENV NODE_ENV=production LABELQ_DEVICE=cpu LABELQ_METRICS_PORT=9464 LABELQ_MODELS_DIR=/app/models
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY shared shared
COPY producer producer
COPY worker worker
COPY dashboard dashboard
# /app/models: the models volume (`labelq model fetch` writes there); ~/.cache/labelq: its download cache.
RUN mkdir -p /app/models /home/node/.cache/labelq && chown -R 1000:1000 /app/models /home/node/.cache
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 9464
# Only meaningful for `labelq worker`; Compose overrides or disables it for the other commands.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LABELQ_METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: the worker stops taking jobs and hands back what it cannot finish.
ENTRYPOINT ["node", "worker/bin/labelq.js"]
CMD ["worker"]
