//! The emulated attestation PKI: root CA → intermediate CA → RSA-2048 leaf named
//! `*.metadata.azure.com` (CN and SAN), each CA certificate's issuer reachable through the
//! AIA `caIssuers` URL of the one below it, like Azure's own chain under a private root.

use std::fmt;

use der::Encode;
use der::asn1::{Ia5String, ObjectIdentifier};
use joinery_azure::attested::RootStore;
use joinery_teleport::identity::der_to_pem;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::OffsetDateTime;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};

use super::{AttestedSigner, SignError, cert_err, enc_err};

const OID_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
const OID_AIA_EXT: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];

/// What [`EmulatorPki::generate`] builds.
#[derive(Debug, Clone)]
pub struct EmulatorPkiConfig {
    /// Leaf DNS names; the first is also the subject CN. Default
    /// `["eastus.metadata.azure.com", "metadata.azure.com"]`, like Azure's SAN.
    pub leaf_dns_names: Vec<String>,
    /// AIA `caIssuers` URL of the leaf: where the intermediate's DER will be served.
    pub leaf_aia_url: Option<String>,
    /// AIA `caIssuers` URL of the intermediate: where the root's DER will be served.
    pub intermediate_aia_url: Option<String>,
    /// Validity of the root and intermediate.
    pub ca_not_before: OffsetDateTime,
    /// Validity of the root and intermediate.
    pub ca_not_after: OffsetDateTime,
    /// Validity of the leaf.
    pub leaf_not_before: OffsetDateTime,
    /// Validity of the leaf.
    pub leaf_not_after: OffsetDateTime,
}

impl Default for EmulatorPkiConfig {
    fn default() -> Self {
        let now = OffsetDateTime::now_utc();
        EmulatorPkiConfig {
            leaf_dns_names: vec!["eastus.metadata.azure.com".to_string(), "metadata.azure.com".to_string()],
            leaf_aia_url: None,
            intermediate_aia_url: None,
            ca_not_before: now - time::Duration::days(1),
            ca_not_after: now + time::Duration::days(3650),
            leaf_not_before: now - time::Duration::hours(1),
            leaf_not_after: now + time::Duration::days(365),
        }
    }
}

/// An emulated Azure attestation PKI: root → intermediate → leaf, all RSA-2048.
#[derive(Clone)]
pub struct EmulatorPki {
    root_der: Vec<u8>,
    intermediate_der: Vec<u8>,
    leaf_der: Vec<u8>,
    leaf_key_pkcs8: Vec<u8>,
}

impl fmt::Debug for EmulatorPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorPki").finish_non_exhaustive()
    }
}

fn aia_extension(url: &str) -> Result<CustomExtension, SignError> {
    let aia = AuthorityInfoAccessSyntax(vec![AccessDescription {
        access_method: OID_CA_ISSUERS,
        access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url).map_err(enc_err)?),
    }]);
    Ok(CustomExtension::from_oid_content(OID_AIA_EXT, aia.to_der().map_err(enc_err)?))
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::OrganizationName, "Joinery Emulated Azure");
    dn.push(DnType::CommonName, cn);
    dn
}

impl EmulatorPki {
    /// Generates a fresh PKI.
    pub fn generate(cfg: &EmulatorPkiConfig) -> Result<Self, SignError> {
        let rsa = &rcgen::PKCS_RSA_SHA256;
        let root_key = KeyPair::generate_for(rsa).map_err(cert_err)?;
        let mut root = CertificateParams::default();
        root.distinguished_name = dn("Joinery Emulated Azure Root CA");
        root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        root.not_before = cfg.ca_not_before;
        root.not_after = cfg.ca_not_after;
        let root_cert = root.self_signed(&root_key).map_err(cert_err)?;
        let root_issuer = Issuer::from_params(&root, &root_key);

        let inter_key = KeyPair::generate_for(rsa).map_err(cert_err)?;
        let mut inter = CertificateParams::default();
        inter.distinguished_name = dn("Joinery Emulated Azure RSA TLS Issuing CA 01");
        inter.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        inter.key_usages = root.key_usages.clone();
        inter.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        inter.use_authority_key_identifier_extension = true;
        inter.not_before = cfg.ca_not_before;
        inter.not_after = cfg.ca_not_after;
        if let Some(url) = &cfg.intermediate_aia_url {
            inter.custom_extensions.push(aia_extension(url)?);
        }
        let inter_cert = inter.signed_by(&inter_key, &root_issuer).map_err(cert_err)?;
        let inter_issuer = Issuer::from_params(&inter, &inter_key);

        let leaf_key = KeyPair::generate_for(rsa).map_err(cert_err)?;
        let mut leaf = CertificateParams::new(cfg.leaf_dns_names.clone()).map_err(cert_err)?;
        let cn = cfg.leaf_dns_names.first().cloned().unwrap_or_else(|| "metadata.azure.com".to_string());
        leaf.distinguished_name = dn(&cn);
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = cfg.leaf_not_before;
        leaf.not_after = cfg.leaf_not_after;
        if let Some(url) = &cfg.leaf_aia_url {
            leaf.custom_extensions.push(aia_extension(url)?);
        }
        let leaf_cert = leaf.signed_by(&leaf_key, &inter_issuer).map_err(cert_err)?;

        Ok(EmulatorPki {
            root_der: root_cert.der().to_vec(),
            intermediate_der: inter_cert.der().to_vec(),
            leaf_der: leaf_cert.der().to_vec(),
            leaf_key_pkcs8: leaf_key.serialize_der(),
        })
    }

    /// Root certificate, DER.
    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    /// Root certificate, PEM.
    pub fn root_pem(&self) -> String {
        der_to_pem(&self.root_der)
    }

    /// Intermediate certificate, DER (what the leaf's AIA URL must serve).
    pub fn intermediate_der(&self) -> &[u8] {
        &self.intermediate_der
    }

    /// Leaf (signing) certificate, DER.
    pub fn leaf_der(&self) -> &[u8] {
        &self.leaf_der
    }

    /// Leaf private key, PKCS#8 DER (for persisting; never log it).
    pub fn leaf_key_pkcs8_der(&self) -> &[u8] {
        &self.leaf_key_pkcs8
    }

    /// A root store holding only this PKI's root.
    pub fn root_store(&self) -> Result<RootStore, SignError> {
        RootStore::empty().with_der(&self.root_der).map_err(cert_err)
    }

    /// The attested-document signer of this PKI (leaf cert + key).
    pub fn signer(&self) -> Result<AttestedSigner, SignError> {
        AttestedSigner::from_pkcs8(&self.leaf_der, &self.leaf_key_pkcs8)
    }
}
