//! A TLS front for the replay server, for the TLS checks every transport
//! runs: a throwaway CA (made with the `openssl` command), a server
//! certificate for 127.0.0.1, a client certificate the server requires, and
//! a second CA nobody trusts.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// PEM material made for one test run.
#[derive(Debug)]
pub struct TestPki {
    dir: PathBuf,
    /// The CA that signed the server and client certificates.
    pub ca: Vec<u8>,
    /// A CA that signed nothing here.
    pub other_ca: Vec<u8>,
    /// The server certificate (127.0.0.1 and `kubewire-api.internal`).
    pub server_cert: Vec<u8>,
    /// The server key.
    pub server_key: Vec<u8>,
    /// The client certificate.
    pub client_cert: Vec<u8>,
    /// The client key (PKCS#8, `PRIVATE KEY`).
    pub client_key: Vec<u8>,
    /// The same key in SEC1 form (`EC PRIVATE KEY`, as kind and kubeadm
    /// write it).
    pub client_key_sec1: Vec<u8>,
    /// A second client certificate, for an RSA key.
    pub rsa_client_cert: Vec<u8>,
    /// Its key in PKCS#1 form (`RSA PRIVATE KEY`, as older tools write it).
    pub rsa_client_key_pkcs1: Vec<u8>,
    /// A key that belongs to no certificate here.
    pub stray_key: Vec<u8>,
    /// A client certificate signed by `other_ca` (the server refuses it).
    pub untrusted_cert: Vec<u8>,
    /// Its key.
    pub untrusted_key: Vec<u8>,
}

fn openssl(dir: &Path, args: &[&str]) -> io::Result<()> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

impl TestPki {
    /// Makes the material in a private temporary directory (0700), removed
    /// on drop.
    pub fn new() -> io::Result<TestPki> {
        let dir = std::env::temp_dir().join(format!(
            "kubewire-pki-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for (name, cn) in [("ca", "kubewire test CA"), ("other", "nobody's CA")] {
            let mut args = vec!["req", "-x509", "-days", "2", "-subj"];
            let subj = format!("/CN={cn}");
            args.push(&subj);
            args.extend(ec);
            let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
            args.extend(["-keyout", &key, "-out", &crt]);
            openssl(&dir, &args)?;
        }
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:kubewire-api.internal\nextendedKeyUsage=serverAuth\n",
        )?;
        std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n")?;
        std::fs::write(dir.join("untrusted.ext"), "extendedKeyUsage=clientAuth\n")?;
        std::fs::write(dir.join("rsa.ext"), "extendedKeyUsage=clientAuth\n")?;
        let rsa = ["-newkey", "rsa:2048", "-nodes"];
        for (name, cn, signer, kind) in [
            ("server", "127.0.0.1", "ca", ec.as_slice()),
            ("client", "kubewire-client", "ca", &ec),
            ("untrusted", "kubewire-client", "other", &ec),
            ("rsa", "kubewire-client", "ca", &rsa),
        ] {
            let subj = format!("/CN={cn}");
            let (key, csr, crt, ext) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.crt"),
                format!("{name}.ext"),
            );
            let (signer_crt, signer_key) = (format!("{signer}.crt"), format!("{signer}.key"));
            let mut args = vec!["req", "-new", "-subj", &subj];
            args.extend(kind);
            args.extend(["-keyout", &key, "-out", &csr]);
            openssl(&dir, &args)?;
            openssl(
                &dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    &signer_crt,
                    "-CAkey",
                    &signer_key,
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-extfile",
                    &ext,
                    "-out",
                    &crt,
                ],
            )?;
        }
        openssl(
            &dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-out",
                "stray.key",
            ],
        )?;
        openssl(
            &dir,
            &["ec", "-in", "client.key", "-out", "client-sec1.key"],
        )?;
        openssl(
            &dir,
            &[
                "rsa",
                "-in",
                "rsa.key",
                "-traditional",
                "-out",
                "rsa-pkcs1.key",
            ],
        )?;
        let read = |f: &str| std::fs::read(dir.join(f));
        Ok(TestPki {
            ca: read("ca.crt")?,
            other_ca: read("other.crt")?,
            server_cert: read("server.crt")?,
            server_key: read("server.key")?,
            client_cert: read("client.crt")?,
            client_key: read("client.key")?,
            client_key_sec1: read("client-sec1.key")?,
            rsa_client_cert: read("rsa.crt")?,
            rsa_client_key_pkcs1: read("rsa-pkcs1.key")?,
            stray_key: read("stray.key")?,
            untrusted_cert: read("untrusted.crt")?,
            untrusted_key: read("untrusted.key")?,
            dir,
        })
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Terminates TLS on 127.0.0.1 (client certificates signed by the test CA
/// required) and forwards the plain bytes to `upstream`.
#[derive(Debug)]
pub struct TlsFront {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

fn bad(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl TlsFront {
    /// Starts the front for `upstream` (a replay server's address).
    pub fn start(pki: &TestPki, upstream: SocketAddr) -> io::Result<TlsFront> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(&pki.ca) {
            roots.add(ca.map_err(bad)?).map_err(bad)?;
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .map_err(bad)?;
        let certs = CertificateDer::pem_slice_iter(&pki.server_cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        let key = PrivateKeyDer::from_pem_slice(&pki.server_key).map_err(bad)?;
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(bad)?
                .with_client_cert_verifier(verifier)
                .with_single_cert(certs, key)
                .map_err(bad)?,
        );
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let acceptor = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        let (config, flag) = (config.clone(), flag.clone());
                        std::thread::spawn(move || {
                            let _ = forward(tcp, upstream, config, &flag);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(TlsFront {
            addr,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// `https://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> String {
        format!("https://{}/", self.addr)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

fn pending(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Moves bytes both ways between a TLS client and the plain upstream.
fn forward(
    tcp: TcpStream,
    upstream: SocketAddr,
    config: Arc<rustls::ServerConfig>,
    stop: &AtomicBool,
) -> io::Result<()> {
    tcp.set_nonblocking(false)?;
    tcp.set_read_timeout(Some(Duration::from_millis(20)))?;
    let mut tls =
        rustls::StreamOwned::new(rustls::ServerConnection::new(config).map_err(bad)?, tcp);
    let mut plain = TcpStream::connect(upstream)?;
    plain.set_read_timeout(Some(Duration::from_millis(20)))?;
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match tls.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => plain.write_all(&buf[..n])?,
            Err(e) if pending(&e) => {}
            Err(e) => return Err(e),
        }
        match plain.read(&mut buf) {
            Ok(0) => {
                tls.conn.send_close_notify();
                let _ = tls.flush();
                return Ok(());
            }
            Ok(n) => {
                tls.write_all(&buf[..n])?;
                tls.flush()?;
            }
            Err(e) if pending(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
