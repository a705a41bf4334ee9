#ifndef LEADROUTER_COPENSSL_SHIM_H
#define LEADROUTER_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/pem.h>

/* Macros and variadic APIs that Swift cannot import, as prefixed inline functions. */
static inline long lr_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long lr_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
/* TLS listener (HTTPServer): server defaults in one call — TLS 1.2 minimum, partial writes
   with a moving buffer (non-blocking sockets retry with whatever is left), buffers released
   when idle, no renegotiation. Returns 1 on success, 0 on failure. */
static inline int lr_SSL_CTX_configure_server(SSL_CTX *ctx) {
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return 0;
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                          | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    return 1;
}
/* Client side of the same (tests): partial writes allowed, TLS 1.2 minimum. */
static inline int lr_SSL_CTX_configure_client(SSL_CTX *ctx) {
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return 0;
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return 1;
}
/* Outbound HTTPS (webhooks): SNI is a macro. Returns 1 on success. */
static inline long lr_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
/* Outbound HTTPS: the client keeps sessions itself (one per receiver, handed over by the
   new-session callback) so a later handshake to the same receiver can resume. */
static inline long lr_SSL_CTX_enable_client_session_cache(SSL_CTX *ctx) {
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
}
#endif
