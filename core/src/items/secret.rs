//! Secrets: type and base64-decoded data.

use std::collections::BTreeMap;

use base64::Engine as _;

use crate::error::{Error, Result};
use crate::items::typed::typed_item;

typed_item!(
    /// A Secret at one resourceVersion. Its `spec()` is an empty object:
    /// Secrets have none.
    Secret
);

/// `type` of a Secret. Types not listed here are kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SecretType {
    /// `Opaque`.
    Opaque,
    /// `kubernetes.io/service-account-token`.
    ServiceAccountToken,
    /// `kubernetes.io/dockercfg`.
    Dockercfg,
    /// `kubernetes.io/dockerconfigjson`.
    DockerConfigJson,
    /// `kubernetes.io/basic-auth`.
    BasicAuth,
    /// `kubernetes.io/ssh-auth`.
    SshAuth,
    /// `kubernetes.io/tls`.
    Tls,
    /// `bootstrap.kubernetes.io/token`.
    BootstrapToken,
    /// Any other type, as written.
    Other(String),
}

impl SecretType {
    fn parse(s: &str) -> SecretType {
        match s {
            "Opaque" => SecretType::Opaque,
            "kubernetes.io/service-account-token" => SecretType::ServiceAccountToken,
            "kubernetes.io/dockercfg" => SecretType::Dockercfg,
            "kubernetes.io/dockerconfigjson" => SecretType::DockerConfigJson,
            "kubernetes.io/basic-auth" => SecretType::BasicAuth,
            "kubernetes.io/ssh-auth" => SecretType::SshAuth,
            "kubernetes.io/tls" => SecretType::Tls,
            "bootstrap.kubernetes.io/token" => SecretType::BootstrapToken,
            other => SecretType::Other(other.to_string()),
        }
    }
}

impl Secret {
    /// `type`; `Opaque` when absent, as the apiserver defaults it.
    pub fn secret_type(&self) -> Result<SecretType> {
        match self.fields().get("type") {
            None => Ok(SecretType::Opaque),
            Some(_) => Ok(SecretType::parse(&self.fields().string("type")?)),
        }
    }

    /// `data`, each value base64-decoded; a bad value is an error naming
    /// its key. Empty when the Secret has no data.
    pub fn data(&self) -> Result<BTreeMap<String, Vec<u8>>> {
        let Some(data) = self.fields().get("data") else {
            return Ok(BTreeMap::new());
        };
        let map = data.as_object().ok_or_else(|| Error::FieldValue {
            field: "data".into(),
            value: "(not a map)".into(),
            expected: "a map of base64 values".into(),
        })?;
        map.iter()
            .map(|(key, v)| {
                let decoded = v
                    .as_str()
                    .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                    .ok_or_else(|| Error::FieldValue {
                        field: format!("data.{key}"),
                        // The value is secret: never echoed.
                        value: "<redacted>".into(),
                        expected: "base64".into(),
                    })?;
                Ok((key.clone(), decoded))
            })
            .collect()
    }
}
