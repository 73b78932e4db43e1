#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    natter::server::cli::main().await
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser side starts from `natter::hydrate`, not from here.
}
