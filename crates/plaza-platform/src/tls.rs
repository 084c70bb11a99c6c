//! One TLS crypto backend for the process (ring), chosen before any TLS
//! client (SMTP, S3, OAuth) is built.

/// Installs ring as rustls's process-wide provider; later calls do nothing.
pub fn install() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
