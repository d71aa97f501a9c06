# syntax=docker/dockerfile:1
# chatlio-relay: the build stage compiles TypeScript and the better-sqlite3 addon; the runtime stage is slim and non-root.
# `npm run verify:docker` replays these steps without Docker and checks them against "Docker image facts" in the docs.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source (.prebuild-installrc: buildFromSource), so node-gyp needs python3, make and g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .prebuild-installrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# Dev dependencies go; the compiled addon stays, so the runtime stage needs no compiler.
RUN npm prune --omit=dev
# The addon's build leftovers (SQLite's sources, object files, a test extension): about 30 MB never loaded at run time.
RUN cd node_modules/better-sqlite3 \
 && rm -rf deps src build/Release/obj build/Release/obj.target build/Release/.deps build/Release/sqlite3.a build/Release/test_extension.node

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps zombies, with or without `docker run --init`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production DATA_DIR=/data HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The sample payloads `chatlio-relay send <type>` posts when no file is given.
COPY fixtures/valid ./fixtures/valid
RUN mkdir -p /data \
 && chown node:node /data \
 && chmod 755 /app/dist/cli.js \
 && ln -s /app/dist/cli.js /usr/local/bin/chatlio-relay
USER node
VOLUME /data
EXPOSE 3000
# No curl in the image: node asks /readyz, which fails when the database does not take a write.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli.js"]
CMD ["serve"]
