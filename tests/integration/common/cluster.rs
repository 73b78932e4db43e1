//! A PostgreSQL cluster of one test's own, for tests that stop it or look
//! at how it is set up (the shared test cluster is never touched: other
//! tests use it meanwhile).

use natter::server::embedded_pg::{self, Cluster};
use std::path::PathBuf;

/// The test's own cluster, stopped and removed however the test ends (the
/// shared test cluster is never restarted: other tests use it meanwhile).
pub struct PrivateCluster {
    pub dir: PathBuf,
    pub cluster: Cluster,
}

impl PrivateCluster {
    pub async fn start() -> Self {
        Self::start_in(PathBuf::from(env!("CARGO_TARGET_TMPDIR"))).await
    }

    /// One in a new folder under `parent`.
    pub async fn start_in(parent: PathBuf) -> Self {
        let dir = parent.join(format!("pgr-{}", uuid::Uuid::now_v7().simple()));
        let cluster = embedded_pg::ensure_running(&dir)
            .await
            .expect("the private cluster starts");
        Self { dir, cluster }
    }

    pub async fn stop(&self) {
        let cluster = self.cluster.clone();
        tokio::task::spawn_blocking(move || cluster.stop())
            .await
            .unwrap()
            .expect("pg_ctl stop");
    }

    pub async fn start_again(&self) {
        embedded_pg::ensure_running(&self.dir)
            .await
            .expect("the cluster starts again");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.cluster.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
