//! Servers a test runs of its own on free ports, to stop, kill and start
//! again — NATS, Redis, a PostgreSQL cluster — so the shared ones are
//! never touched.

/// A NATS server with JetStream of a test's own (so the test may stop and
/// restart it), on a free port, keeping its store in a temporary folder.
pub struct NatsServer {
    pub port: u16,
    pub url: String,
    store: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl NatsServer {
    pub async fn start() -> Self {
        let port = free_port();
        let mut server = Self {
            port,
            url: format!("nats://127.0.0.1:{port}"),
            store: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.restart().await;
        server
    }

    /// Starts the server (again) on the same port and store.
    pub async fn restart(&mut self) {
        let binary = std::env::var("NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let child = std::process::Command::new(&binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("nats-server is needed for this test ({binary}): {e}"));
        self.child = Some(child);
        wait_for_port(self.port, "nats-server").await;
    }

    /// Stops the server the way an operator would (SIGTERM) and waits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = std::process::Command::new("kill")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A Redis server of a test's own on a free port, which the test may kill
/// and start again (the shared one is never stopped). Keeps nothing on disk.
pub struct RedisServer {
    pub port: u16,
    pub url: String,
    child: Option<std::process::Child>,
}

impl RedisServer {
    pub async fn start() -> Self {
        let mut server = Self {
            port: free_port(),
            url: String::new(),
            child: None,
        };
        server.url = format!("redis://127.0.0.1:{}", server.port);
        server.restart().await;
        server
    }

    /// Starts the server (again) on the same port, empty.
    pub async fn restart(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(std::env::temp_dir())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server is needed for this test: {e}"));
        self.child = Some(child);
        wait_for_port(self.port, "redis-server").await;
    }

    /// Kills the server (SIGKILL: no goodbye to its clients) and waits.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for_port(port: u16, what: &str) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what} did not open port {port}");
}

/// A PostgreSQL cluster of a test's own (`pg_createcluster`, trust auth,
/// on a free port), which the test may stop and start; dropped with it.
/// The shared server is never touched.
pub struct PgCluster {
    pub url: String,
    version: String,
    name: String,
}

impl PgCluster {
    pub async fn create() -> Self {
        let version = std::fs::read_dir("/etc/postgresql")
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .expect("PostgreSQL's cluster tools are needed for this test (/etc/postgresql)");
        let port = free_port();
        let name = format!(
            "plazatest{}",
            &uuid::Uuid::now_v7().simple().to_string()[20..]
        );
        let created = std::process::Command::new("pg_createcluster")
            .args([
                &version,
                &name,
                "-p",
                &port.to_string(),
                "--",
                "-A",
                "trust",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("pg_createcluster");
        assert!(created.success(), "pg_createcluster failed");
        let cluster = Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            version,
            name,
        };
        cluster.start().await;
        cluster
    }

    fn ctl(&self, action: &[&str]) {
        let status = std::process::Command::new("pg_ctlcluster")
            .args([self.version.as_str(), self.name.as_str()])
            .args(action)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("pg_ctlcluster");
        assert!(status.success(), "pg_ctlcluster {action:?} failed");
    }

    pub async fn start(&self) {
        self.ctl(&["start"]);
        let port: u16 = self
            .url
            .rsplit(':')
            .next()
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        wait_for_port(port, "postgres").await;
    }

    /// Stops the server at once (`-m immediate`: as a crash would).
    pub fn stop(&self) {
        self.ctl(&["stop", "-m", "immediate"]);
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("pg_dropcluster")
            .args(["--stop", self.version.as_str(), self.name.as_str()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// A RabbitMQ node of a test's own (its own name, port and store), which
/// the test may stop and start again; the shared broker is never touched.
/// Starting one takes some seconds (an Erlang VM boots).
pub struct RabbitServer {
    pub url: String,
    port: u16,
    node: String,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl RabbitServer {
    pub async fn start() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // The broker may run as its own user: let it write here.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let port = free_port();
        std::fs::write(dir.path().join("plugins"), "[].").unwrap();
        std::fs::write(
            dir.path().join("rabbitmq.conf"),
            format!("listeners.tcp.1 = 127.0.0.1:{port}\n"),
        )
        .unwrap();
        let mut server = Self {
            url: format!("amqp://guest:guest@127.0.0.1:{port}/%2f"),
            port,
            node: format!("plazatest{port}@localhost"),
            dir,
            child: None,
        };
        server.restart().await;
        server
    }

    /// Starts the node (again) on the same port and store.
    pub async fn restart(&mut self) {
        let dir = self.dir.path();
        let child = std::process::Command::new("rabbitmq-server")
            .env("RABBITMQ_CONF_ENV_FILE", "/dev/null")
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", free_port().to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("plugins"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("rabbitmq-server is needed for this test: {e}"));
        self.child = Some(child);
        for _ in 0..240 {
            if lapin::Connection::connect(&self.url, lapin::ConnectionProperties::default())
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        panic!("rabbitmq-server did not start on port {}", self.port);
    }

    /// Stops the node the way an operator would, and waits.
    pub fn stop(&mut self) {
        let _ = std::process::Command::new("rabbitmqctl")
            .args(["-n", &self.node, "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

impl Drop for RabbitServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
    }
}
