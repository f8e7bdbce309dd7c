//! go-plugin's AutoMTLS, server side.
//!
//! Terraform generates a throwaway client certificate, passes it to us in
//! `PLUGIN_CLIENT_CERT` and expects the handshake line to carry our own
//! throwaway server certificate. Both sides then accept exactly that peer.

use std::sync::Arc;

use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{
    aws_lc_rs, verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub(super) enum TlsError {
    /// `PLUGIN_CLIENT_CERT` did not hold a PEM certificate.
    #[error("reading the client certificate Terraform passed in PLUGIN_CLIENT_CERT: {0}")]
    ClientCert(String),
    /// Generating our certificate failed.
    #[error("generating the plugin's server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("configuring TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A server TLS configuration plus the DER certificate to announce.
#[derive(Debug)]
pub(super) struct PluginTls {
    /// The rustls configuration accepting only Terraform's client certificate.
    pub config: Arc<ServerConfig>,
    /// Our certificate, DER-encoded, for the handshake line.
    pub server_cert_der: Vec<u8>,
}

/// Builds the TLS configuration for the client certificate in `client_pem`.
pub(super) fn plugin_tls(client_pem: &str) -> Result<PluginTls, TlsError> {
    let client_cert = CertificateDer::from_pem_slice(client_pem.as_bytes())
        .map_err(|e| TlsError::ClientCert(e.to_string()))?;
    let (server_cert, server_key) = generate_server_cert()?;
    let provider = Arc::new(aws_lc_rs::default_provider());
    let verifier = PinnedClientCert {
        cert: client_cert,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![server_cert.clone()], server_key)?;
    // gRPC clients insist on HTTP/2 being negotiated through ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(PluginTls {
        config: Arc::new(config),
        server_cert_der: server_cert.to_vec(),
    })
}

/// A self-signed certificate for "localhost", valid for a generous window
/// around now: Terraform pins it, so its lifetime only needs to cover a run.
fn generate_server_cert() -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "terraform-provider-imagecopier");
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(30);
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().clone(), key_der))
}

/// Accepts exactly one client certificate, the one Terraform gave us.
///
/// go-plugin marks its certificate as a CA, which webpki rejects as an end
/// entity; pinning the exact bytes is both stricter and correct here. The
/// handshake signatures are still verified, proving the peer holds the key.
#[derive(Debug)]
struct PinnedClientCert {
    cert: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_a_client_cert_that_is_not_pem() {
        let err = plugin_tls("not a certificate").expect_err("garbage must be refused");
        assert!(err.to_string().contains("PLUGIN_CLIENT_CERT"), "{err}");
    }

    #[test]
    fn builds_a_config_that_offers_h2_and_pins_the_client() -> Result<(), Box<dyn std::error::Error>>
    {
        let key = KeyPair::generate()?;
        let client = CertificateParams::new(vec!["localhost".to_owned()])?.self_signed(&key)?;
        let tls = plugin_tls(&client.pem())?;
        assert_eq!(tls.config.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(!tls.server_cert_der.is_empty());

        let provider = aws_lc_rs::default_provider();
        let verifier = PinnedClientCert {
            cert: client.der().clone(),
            algorithms: provider.signature_verification_algorithms,
        };
        let other = CertificateParams::new(vec!["localhost".to_owned()])?
            .self_signed(&KeyPair::generate()?)?;
        assert!(verifier
            .verify_client_cert(client.der(), &[], UnixTime::now())
            .is_ok());
        assert!(verifier
            .verify_client_cert(other.der(), &[], UnixTime::now())
            .is_err());
        // go-plugin's client keys are ECDSA P-521; the verifier must offer that scheme.
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        Ok(())
    }
}
