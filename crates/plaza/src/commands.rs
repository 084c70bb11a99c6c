//! What each command does: load configuration, connect what it needs, act.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use plaza_app::users::password::Password;
use plaza_app::users::{CreateUserError, NewUser};
use plaza_app::{AppState, MIGRATIONS};
use plaza_core::{Clock, Email, SystemClock, Username};
use plaza_platform::config::{Config, ConfigError, Overrides, Sources, var_for_key};
use plaza_platform::db::{Db, migrate};
use plaza_platform::telemetry;

use crate::cli::{
    AdminAction, Cli, Command, ConfigAction, CreateUserArgs, GraphqlAction, MigrateAction,
};

pub enum Failure {
    Config(ConfigError),
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Self::Other(e.into())
    }
}

pub async fn run(cli: Cli) -> Result<(), Failure> {
    let mut overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        ..Overrides::default()
    };
    if let Command::Serve(args) = &cli.command {
        overrides.host.clone_from(&args.host);
        overrides.port = args.port;
    }
    if let Command::Graphql {
        action: GraphqlAction::Schema,
    } = &cli.command
    {
        // Needs no configuration: the schema is the same everywhere.
        print!("{}", plaza_app::graphql::sdl());
        return Ok(());
    }
    let mut config = Config::load(Sources::from_process(cli.config.clone(), overrides))
        .map_err(Failure::Config)?;
    match cli.command {
        Command::Serve(args) => {
            if args.no_migrate {
                config.database.migrate_on_start = false;
            }
            serve(config).await
        }
        Command::Worker(args) => worker(config, args).await,
        Command::Migrate { action } => migrate_command(config, action).await,
        Command::Config {
            action: ConfigAction::Show,
        } => {
            print!("{}", config.to_masked_toml());
            Ok(())
        }
        Command::Admin {
            action: AdminAction::CreateUser(args),
        } => create_user(config, args).await,
        Command::Graphql { .. } => Ok(()),
    }
}

async fn serve(config: Config) -> Result<(), Failure> {
    let _logs = telemetry::init_logging(&config.log, config.features.debug)?;
    let _sentry = telemetry::init_sentry(&config.sentry);
    let addr = format!("{}:{}", config.host, config.port);
    let grace = config.http.shutdown_timeout.0;
    let state = AppState::connect(config, Arc::new(SystemClock), plaza_app::app::hooks()).await?;
    if state.config.database.migrate_on_start {
        let applied = migrate::up(&state.db, MIGRATIONS, state.clock.now()).await?;
        if !applied.is_empty() {
            tracing::info!(count = applied.len(), "database migrated");
        }
    }
    state.start();
    let signal = shutdown_signal().context("cannot listen for shutdown signals")?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| {
            format!(
                "{} / {}: cannot listen on {addr}",
                var_for_key("host"),
                var_for_key("port")
            )
        })?;
    let local: SocketAddr = listener.local_addr()?;
    tracing::info!(
        address = %local,
        database = state.db.backend().name(),
        redis = state.redis.is_some(),
        version = env!("CARGO_PKG_VERSION"),
        "plaza is listening on http://{local}"
    );
    let app = plaza_app::router(state.clone());
    let shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        signal.await;
        shutdown.begin(grace);
    });
    plaza_app::serve(listener, app, state.shutdown.clone()).await?;
    // Sockets were told 1001 when stopping began; let their close frames go.
    state.hub.drained(std::time::Duration::from_secs(5)).await;
    tracing::info!("shutting down");
    state.close().await;
    Ok(())
}

/// Runs job workers (and the outbox relay and schedules) until a signal;
/// then stops claiming and lets running jobs finish within the shutdown
/// timeout.
async fn worker(config: Config, args: crate::cli::WorkerArgs) -> Result<(), Failure> {
    let _logs = telemetry::init_logging(&config.log, config.features.debug)?;
    let _sentry = telemetry::init_sentry(&config.sentry);
    let grace = config.http.shutdown_timeout.0;
    let state = AppState::connect(config, Arc::new(SystemClock), plaza_app::app::hooks()).await?;
    if state.config.database.migrate_on_start {
        migrate::up(&state.db, MIGRATIONS, state.clock.now()).await?;
    }
    let queues: Vec<&str> = if args.queues.is_empty() {
        plaza_app::app::QUEUES.to_vec()
    } else {
        args.queues.iter().map(String::as_str).collect()
    };
    let signal = shutdown_signal().context("cannot listen for shutdown signals")?;
    plaza_platform::outbox::spawn(state.clone());
    state.start_jobs(&queues);
    tracing::info!(queues = ?queues, "plaza worker is running");
    signal.await;
    tracing::info!("stopping: no new jobs; waiting for running ones");
    state.shutdown.begin(grace);
    tokio::select! {
        () = state.workers.idle() => {}
        () = state.shutdown.halted() => {
            // Halted jobs hand themselves back; give them a moment.
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
    state.close().await;
    Ok(())
}

/// A future that completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are
/// registered now, before the server announces itself, so a signal that
/// arrives at once still stops it gracefully instead of killing it.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => tracing::info!("received SIGTERM"),
                _ = interrupt.recv() => tracing::info!("received SIGINT"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("received Ctrl-C");
        })
    }
}

async fn migrate_command(config: Config, action: MigrateAction) -> Result<(), Failure> {
    if let MigrateAction::Create { name, dir } = &action {
        return create_migration(name, dir);
    }
    let db = Db::connect(&config).await?;
    let now = SystemClock.now();
    match action {
        MigrateAction::Up => {
            let applied = migrate::up(&db, MIGRATIONS, now).await?;
            println!(
                "applied {} migration(s) on {}",
                applied.len(),
                db.backend().name()
            );
            for v in applied {
                println!("  {v}");
            }
        }
        MigrateAction::Down { steps } => {
            let reverted = migrate::down(&db, MIGRATIONS, steps).await?;
            println!(
                "reverted {} migration(s) on {}",
                reverted.len(),
                db.backend().name()
            );
            for v in reverted {
                println!("  {v}");
            }
        }
        MigrateAction::Status => {
            println!("{:<16} {:<32} status", "version", "name");
            for m in migrate::status(&db, MIGRATIONS).await? {
                let status = match (&m.applied_at, &m.problem) {
                    (_, Some(problem)) => format!("PROBLEM: {problem}"),
                    (Some(at), None) => format!("applied {at}"),
                    (None, None) => "pending".to_owned(),
                };
                println!("{:<16} {:<32} {status}", m.version, m.name);
            }
        }
        MigrateAction::Create { .. } => {}
    }
    db.close().await;
    Ok(())
}

fn create_migration(name: &str, dir: &Path) -> Result<(), Failure> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(anyhow::anyhow!(
            "migration names use lower-case letters, digits and underscores: `{name}` does not"
        )
        .into());
    }
    if !dir.is_dir() {
        return Err(anyhow::anyhow!(
            "{} is not a directory; run this from the repository root or pass --dir",
            dir.display()
        )
        .into());
    }
    let version = SystemClock
        .now()
        .as_jiff()
        .strftime("%Y%m%d%H%M%S")
        .to_string();
    let up = dir.join(format!("{version}_{name}.up.sql"));
    let down = dir.join(format!("{version}_{name}.down.sql"));
    std::fs::write(
        &up,
        format!(
            "-- {name}: write portable SQL (docs/database.md); add {version}_{name}.up.postgres.sql\n-- or .up.sqlite.sql only where the two must differ.\n"
        ),
    )?;
    std::fs::write(&down, format!("-- Undo {name}.\n"))?;
    println!(
        "created {}\ncreated {}\nrebuild to embed them",
        up.display(),
        down.display()
    );
    Ok(())
}

async fn create_user(mut config: Config, args: CreateUserArgs) -> Result<(), Failure> {
    // clap makes sure one of --password and --password-stdin is given.
    let password = match args.password {
        Some(p) => p,
        None => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let new = NewUser {
        email: Email::parse(&args.email).map_err(|e| anyhow::anyhow!("--email: {e}"))?,
        username: args
            .username
            .as_deref()
            .map(Username::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--username: {e}"))?,
        display_name: args.display_name,
        password: Some(Password::parse(password).map_err(|e| anyhow::anyhow!("--password: {e}"))?),
        role: args
            .role
            .parse()
            .map_err(|e| anyhow::anyhow!("--role: {e}"))?,
        // An operator vouches for the address.
        email_verified: true,
    };
    // A one-off command needs no log files.
    config.log.files = false;
    let state = AppState::connect(config, Arc::new(SystemClock), plaza_app::app::hooks()).await?;
    if state.config.database.migrate_on_start {
        migrate::up(&state.db, MIGRATIONS, state.clock.now()).await?;
    }
    let result = plaza_app::auth::accounts::create_user(&state, new).await;
    state.close().await;
    match result {
        Ok(user) => {
            println!(
                "created {} {} ({}) with id {}",
                user.role, user.username, user.email, user.id
            );
            Ok(())
        }
        Err(e @ (CreateUserError::EmailTaken | CreateUserError::UsernameTaken)) => {
            Err(anyhow::anyhow!("{e}").into())
        }
        Err(e) => Err(anyhow::Error::new(e)
            .context("cannot create the account")
            .into()),
    }
}
