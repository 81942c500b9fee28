# syntax=docker/dockerfile:1
# One image per program of the workspace, all from one build:
#   docker build --target catalog -t ghcr.io/microshop/catalog:0.1.0 .
# Targets: frontend catalog cart identity checkout payment shipping email operator.
# The tag is the workspace version (Cargo.toml), which is what the operator renders by
# default: {imageRegistry}/{service}:{version}, imageRegistry defaulting to ghcr.io/microshop.
# The gateway is not built here: the operator runs devopsfaith/krakend with krakend/'s
# configuration, which it embeds.

# --- build: the whole workspace in release, once ------------------------------------------
# Debian 12 (bookworm), the same glibc as the distroless runtime below.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
# Manifests first, so dependency builds are cached while sources change.
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY crates crates
COPY services services
COPY operator operator
# The gateway's configuration, embedded into the operator at build time.
COPY krakend krakend
# A workspace member (the order-flow test harness): cargo needs every member's sources.
COPY e2e/tests/order-flow e2e/tests/order-flow
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --workspace --bins \
 && mkdir -p /out \
 && for bin in frontend catalog cart identity checkout payment shipping email operator; do \
      cp "target/release/$bin" /out/; \
    done

# --- runtime: distroless with glibc and CA certificates, no shell, numeric non-root user --
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
USER 65532:65532
# glibc's malloc, once a large block was freed, keeps later ones of that size in the heap
# for good: identity held ~20 MiB per password hashed (argon2id) long after. A fixed
# threshold maps every block of 1 MiB or more on its own and gives it back when freed.
ENV PORT=8080 LOG_FORMAT=json GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576
EXPOSE 8080

FROM runtime AS frontend
COPY --from=builder /out/frontend /usr/local/bin/frontend
ENTRYPOINT ["/usr/local/bin/frontend"]

FROM runtime AS catalog
COPY --from=builder /out/catalog /usr/local/bin/catalog
ENTRYPOINT ["/usr/local/bin/catalog"]

FROM runtime AS cart
COPY --from=builder /out/cart /usr/local/bin/cart
ENTRYPOINT ["/usr/local/bin/cart"]

FROM runtime AS identity
COPY --from=builder /out/identity /usr/local/bin/identity
ENTRYPOINT ["/usr/local/bin/identity"]

FROM runtime AS checkout
COPY --from=builder /out/checkout /usr/local/bin/checkout
ENTRYPOINT ["/usr/local/bin/checkout"]

FROM runtime AS payment
COPY --from=builder /out/payment /usr/local/bin/payment
ENTRYPOINT ["/usr/local/bin/payment"]

FROM runtime AS shipping
COPY --from=builder /out/shipping /usr/local/bin/shipping
ENTRYPOINT ["/usr/local/bin/shipping"]

FROM runtime AS email
COPY --from=builder /out/email /usr/local/bin/email
ENTRYPOINT ["/usr/local/bin/email"]

# Last, so a plain `docker build .` gives the operator.
FROM runtime AS operator
COPY --from=builder /out/operator /usr/local/bin/operator
ENTRYPOINT ["/usr/local/bin/operator"]
CMD ["run"]
