//! Client keys as PKCS#8, which native-tls requires: kubeconfig files
//! carry PKCS#8 (`PRIVATE KEY`), PKCS#1 RSA (`RSA PRIVATE KEY`, from
//! older tools) and SEC1 EC (`EC PRIVATE KEY`, from kind and kubeadm)
//! keys. The latter two are wrapped in a PKCS#8 envelope, as
//! `openssl pkcs8 -topk8 -nocrypt` does. Errors never quote the key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// rsaEncryption, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-ecPublicKey, 1.2.840.10045.2.1.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
/// `[0]`, constructed: SEC1's `parameters`.
const PARAMETERS: u8 = 0xa0;

/// The first private key of `pem`, as a PKCS#8 PEM.
pub(crate) fn to_pkcs8_pem(pem: &[u8]) -> Result<Vec<u8>, String> {
    let (label, der) = first_key(pem)?;
    let pkcs8 = match label.as_str() {
        "PRIVATE KEY" => der,
        "RSA PRIVATE KEY" => envelope(&[tlv(OID, RSA_ENCRYPTION), tlv(NULL, &[])], &der),
        "EC PRIVATE KEY" => {
            let curve = sec1_curve(&der)?;
            envelope(&[tlv(OID, EC_PUBLIC_KEY), tlv(OID, curve)], &der)
        }
        other => {
            return Err(format!(
                "a {other} is not supported (a PKCS#8, PKCS#1 RSA or SEC1 EC key is)"
            ));
        }
    };
    let mut out = b"-----BEGIN PRIVATE KEY-----\n".to_vec();
    for line in STANDARD.encode(pkcs8).as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END PRIVATE KEY-----\n");
    Ok(out)
}

/// The label and bytes of the first PEM block whose label ends in
/// `PRIVATE KEY`.
fn first_key(pem: &[u8]) -> Result<(String, Vec<u8>), String> {
    let text = std::str::from_utf8(pem).map_err(|_| "not a PEM (not text)".to_string())?;
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        if !label.ends_with("PRIVATE KEY") {
            continue;
        }
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        for line in lines.by_ref() {
            if line == end {
                let der = STANDARD
                    .decode(&body)
                    .map_err(|_| format!("the {label} is not valid base64"))?;
                return Ok((label.to_string(), der));
            }
            if line.contains(':') {
                // `Proc-Type: 4,ENCRYPTED` and its kin.
                return Err(format!("the {label} is encrypted, which is not supported"));
            }
            body.push_str(line);
        }
        return Err(format!("the {label} has no end line"));
    }
    Err("no private key in the PEM".to_string())
}

/// PKCS#8's `PrivateKeyInfo`: version 0, the algorithm, the key.
fn envelope(algorithm: &[Vec<u8>], key: &[u8]) -> Vec<u8> {
    let algorithm = tlv(SEQUENCE, &algorithm.concat());
    let body = [tlv(INTEGER, &[0]), algorithm, tlv(OCTET_STRING, key)].concat();
    tlv(SEQUENCE, &body)
}

/// The named curve of a SEC1 `ECPrivateKey`: the OID in its `[0]`
/// parameters.
fn sec1_curve(der: &[u8]) -> Result<&[u8], String> {
    let bad = || "the EC PRIVATE KEY cannot be read".to_string();
    let (tag, mut fields, _) = read_tlv(der).ok_or_else(bad)?;
    if tag != SEQUENCE {
        return Err(bad());
    }
    while !fields.is_empty() {
        let (tag, value, rest) = read_tlv(fields).ok_or_else(bad)?;
        if tag == PARAMETERS {
            return match read_tlv(value) {
                Some((OID, curve, _)) => Ok(curve),
                _ => Err("the EC PRIVATE KEY names no curve".to_string()),
            };
        }
        fields = rest;
    }
    Err("the EC PRIVATE KEY names no curve".to_string())
}

/// One DER element: tag, value, and what follows it.
fn read_tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// One DER element from its tag and value.
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(label: &str, der: &[u8]) -> Vec<u8> {
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            STANDARD.encode(der)
        )
        .into_bytes()
    }

    fn decoded(pem: &[u8]) -> Vec<u8> {
        let (label, der) = first_key(pem).expect("a key");
        assert_eq!(label, "PRIVATE KEY");
        der
    }

    #[test]
    fn lengths_take_the_long_form_past_127_bytes() {
        assert_eq!(tlv(OCTET_STRING, &[7; 3]), [4, 3, 7, 7, 7]);
        let long = tlv(OCTET_STRING, &[0; 200]);
        assert_eq!(&long[..3], [4, 0x81, 200]);
        let longer = tlv(OCTET_STRING, &[0; 1200]);
        assert_eq!(&longer[..4], [4, 0x82, 0x04, 0xb0]);
        assert_eq!(
            read_tlv(&longer).map(|(_, v, rest)| (v.len(), rest.len())),
            Some((1200, 0))
        );
    }

    #[test]
    fn an_rsa_key_is_wrapped_with_rsa_encryption() {
        let pkcs1 = tlv(SEQUENCE, &[tlv(INTEGER, &[0]), tlv(INTEGER, &[5])].concat());
        let der = decoded(&to_pkcs8_pem(&pem("RSA PRIVATE KEY", &pkcs1)).unwrap());
        let (tag, body, rest) = read_tlv(&der).unwrap();
        assert_eq!((tag, rest.len()), (SEQUENCE, 0));
        let (_, version, body) = read_tlv(body).unwrap();
        assert_eq!(version, [0]);
        let (_, algorithm, body) = read_tlv(body).unwrap();
        assert_eq!(
            algorithm,
            [tlv(OID, RSA_ENCRYPTION), tlv(NULL, &[])].concat()
        );
        let (tag, key, _) = read_tlv(body).unwrap();
        assert_eq!((tag, key), (OCTET_STRING, &pkcs1[..]));
    }

    #[test]
    fn an_ec_key_is_wrapped_with_its_curve() {
        let p256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let sec1 = tlv(
            SEQUENCE,
            &[
                tlv(INTEGER, &[1]),
                tlv(OCTET_STRING, &[9; 32]),
                tlv(PARAMETERS, &tlv(OID, &p256)),
            ]
            .concat(),
        );
        let der = decoded(&to_pkcs8_pem(&pem("EC PRIVATE KEY", &sec1)).unwrap());
        let (_, body, _) = read_tlv(&der).unwrap();
        let (_, _, body) = read_tlv(body).unwrap();
        let (_, algorithm, body) = read_tlv(body).unwrap();
        assert_eq!(
            algorithm,
            [tlv(OID, EC_PUBLIC_KEY), tlv(OID, &p256)].concat()
        );
        assert_eq!(read_tlv(body).unwrap().1, &sec1[..]);
    }

    #[test]
    fn a_pkcs8_key_is_kept_and_found_after_a_certificate() {
        let key = tlv(SEQUENCE, &tlv(INTEGER, &[0]));
        let mut bundle = pem("CERTIFICATE", b"not a key");
        bundle.extend(pem("PRIVATE KEY", &key));
        assert_eq!(decoded(&to_pkcs8_pem(&bundle).unwrap()), key);
    }

    #[test]
    fn what_cannot_be_converted_is_said_without_the_key() {
        let secret = b"s3cr3t-key-bytes";
        let cases: [(Vec<u8>, &str); 5] = [
            (pem("CERTIFICATE", secret), "no private key"),
            (pem("ENCRYPTED PRIVATE KEY", secret), "not supported"),
            (pem("EC PRIVATE KEY", &tlv(SEQUENCE, &tlv(INTEGER, &[1]))), "names no curve"),
            (pem("EC PRIVATE KEY", secret), "cannot be read"),
            (
                b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nczNjcjN0\n-----END RSA PRIVATE KEY-----\n".to_vec(),
                "encrypted",
            ),
        ];
        for (input, expected) in cases {
            let err = to_pkcs8_pem(&input).unwrap_err();
            assert!(err.contains(expected), "{err}");
            assert!(
                !err.contains("s3cr3t") && !err.contains("czNjcjN0"),
                "{err}"
            );
        }
    }
}
