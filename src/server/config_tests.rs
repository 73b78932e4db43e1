use super::*;

const FILE: &str = r#"
[leptos]
output-name = "natter"
site-root = "target/site"
site-addr = "127.0.0.1:3000"

[natter]
database-url = ""
data-dir = ".natter"
db-pool-size = 16
session-days = 30
session-max-days = 90
session-check-secs = 60
password-hash-workers = 0
password-hash-queue = 64
password-hash-wait-ms = 3000
header-read-timeout-secs = 10
request-body-timeout-secs = 30
max-connections-per-address = 256
send-batch-max = 256
send-batches-in-flight = 2
send-overlap-after-ms = 2
search-index-lag-ms = 1000
outbound-queue = 256
ping-interval-secs = 25
auth-attempts-per-minute = 20
max-body-bytes = 65536
sends-per-second = 20
send-burst = 60
peer-fanout = true
max-group-size = 256
read-marker-budget = { per-minute = 600, burst = 120 }
history-budget = { per-minute = 600, burst = 60 }
inbox-budget = { per-minute = 120, burst = 30 }
search-budget = { per-minute = 120, burst = 30 }
message-search-budget = { per-minute = 60, burst = 20 }
new-conversation-budget = { per-minute = 10, burst = 20 }
connect-budget = { per-minute = 60, burst = 30 }
typing-budget = { per-minute = 60, burst = 20 }
presence-budget = { per-minute = 60, burst = 20 }
action-budget = { per-minute = 120, burst = 30 }
presence-grace-ms = 10000
max-attachment-bytes = 25000000
upload-budget = { per-minute = 30, burst = 20 }
upload-daily-bytes = 1000000000
max-image-pixels = 50000000
unsent-upload-secs = 3600
unknown-token-budget = { per-minute = 60, burst = 30 }
failed-login-budget = { per-minute = 1, burst = 10 }
"#;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_file_alone_gives_the_embedded_database() {
    let config = Config::from_toml(Path::new("Leptos.toml"), FILE, vars(&[])).unwrap();
    assert_eq!(config.leptos.site_addr.port(), 3000);
    assert_eq!(&*config.leptos.output_name, "natter");
    assert_eq!(config.natter.db_pool_size, 16);
    assert_eq!(config.natter.external_database(), None);
}

#[test]
fn the_environment_overrides_every_table() {
    let config = Config::from_toml(
        Path::new("Leptos.toml"),
        FILE,
        vars(&[
            ("LEPTOS_SITE_ADDR", "0.0.0.0:8080"),
            ("NATTER_DB_POOL_SIZE", "4"),
            ("NATTER_ALLOWED_ORIGINS", r#"["https://chat.example.com"]"#),
            ("DATABASE_URL", "postgres://db/natter"),
            ("UNRELATED", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(config.leptos.site_addr.to_string(), "0.0.0.0:8080");
    assert_eq!(config.natter.db_pool_size, 4);
    assert_eq!(config.natter.allowed_origins, ["https://chat.example.com"]);
    assert_eq!(
        config.natter.external_database(),
        Some("postgres://db/natter")
    );
}

#[test]
fn a_misspelt_setting_in_the_file_is_an_error_that_names_it_and_the_file() {
    let file = FILE.replace("db-pool-size = 16", "db-pool-siz = 16");
    let error = Config::from_toml(Path::new("deploy/natter.toml"), &file, vars(&[]))
        .unwrap_err()
        .to_string();
    assert!(error.contains("db-pool-siz"), "{error}");
    assert!(error.contains("deploy/natter.toml"), "{error}");
}

#[test]
fn other_natter_variables_in_the_environment_are_not_settings() {
    let config = Config::from_toml(
        Path::new("Leptos.toml"),
        FILE,
        vars(&[
            ("NATTER_FOO", "1"),
            ("NATTER_E2E_BIN", "target/release/natter"),
            ("NATTER_CONFIG", "elsewhere.toml"),
            ("NATTER_SEND_BURST", "7"),
        ]),
    )
    .unwrap();
    assert_eq!(config.natter.send_burst, 7);
}

#[test]
fn the_shipped_file_names_every_setting_and_nothing_else() {
    let shipped: toml::Table = include_str!("../../Leptos.toml").parse().unwrap();
    let mut in_file: Vec<&str> = shipped["natter"]
        .as_table()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut settings = field_names::<Settings>().to_vec();
    in_file.sort_unstable();
    settings.sort_unstable();
    assert_eq!(in_file, settings);
}
