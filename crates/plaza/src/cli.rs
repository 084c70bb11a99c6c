use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// plaza: one server for real-time apps.
#[derive(Debug, Parser)]
#[command(name = "plaza", version, about)]
pub struct Cli {
    /// A configuration file (default: ./plaza.toml when it exists).
    #[arg(long, global = true, env = "PLAZA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where the SQLite file, local files and mail live (PLAZA_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Run only job workers (no HTTP), e.g. `plaza worker --queues ai,email`.
    Worker(WorkerArgs),
    /// Apply, revert, inspect or create database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// The GraphQL API.
    Graphql {
        #[command(subcommand)]
        action: GraphqlAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum GraphqlAction {
    /// Print the schema in SDL (docs/schema.graphql holds the same).
    Schema,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Queues to work, comma-separated (default: every queue).
    #[arg(long, value_delimiter = ',')]
    pub queues: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (PLAZA_HOST).
    #[arg(long)]
    pub host: Option<String>,
    /// Port to listen on; 0 picks a free one (PLAZA_PORT).
    #[arg(long)]
    pub port: Option<u16>,
    /// Do not apply pending migrations at start.
    #[arg(long)]
    pub no_migrate: bool,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the most recent migrations.
    Down {
        /// How many to revert.
        #[arg(default_value_t = 1)]
        steps: usize,
    },
    /// List migrations and whether each is applied.
    Status,
    /// Create an empty migration (up and down files) in the source tree.
    Create {
        /// A short name: letters, digits and underscores.
        name: String,
        /// The migrations folder.
        #[arg(long, default_value = "migrations")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration, secrets masked.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Create an account (for example the first admin).
    CreateUser(CreateUserArgs),
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    #[arg(long)]
    pub email: String,
    /// The password; prefer --password-stdin, which keeps it out of shell history.
    #[arg(
        long,
        conflicts_with = "password_stdin",
        required_unless_present = "password_stdin"
    )]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long, default_value = "user", value_parser = ["user", "admin"])]
    pub role: String,
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub display_name: Option<String>,
}
