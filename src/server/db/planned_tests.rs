//! [`Planned`] against a real PostgreSQL: its statements stay prepared (and
//! planned) while they are young, and are dropped, to be prepared and
//! planned again on their next run, once older than its interval.

use super::Planned;
use crate::server::embedded_pg;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, Row};
use std::path::Path;
use std::time::Duration;

/// `DATABASE_URL`'s server, else the private cluster the integration tests
/// use (`target/tmp/pg`).
async fn test_server() -> PgConnectOptions {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return url.parse().expect("DATABASE_URL parses");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/pg");
    embedded_pg::ensure_running(&dir)
        .await
        .expect("the private test cluster starts")
        .connect_options(embedded_pg::DB_NAME)
}

/// Statements prepared on this connection, asked in the simple protocol
/// (so that asking prepares nothing itself).
async fn prepared(conn: &mut PgConnection) -> i64 {
    sqlx::raw_sql("SELECT count(*) FROM pg_prepared_statements")
        .fetch_one(conn)
        .await
        .expect("pg_prepared_statements")
        .get(0)
}

async fn run_a_statement(conn: &mut PgConnection) {
    let answer: i64 = sqlx::query_scalar("SELECT $1::int8 + 1")
        .bind(41_i64)
        .fetch_one(conn)
        .await
        .expect("a statement runs");
    assert_eq!(answer, 42);
}

#[tokio::test]
async fn statements_are_planned_again_once_older_than_the_interval() {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(test_server().await)
        .await
        .expect("connects to the test server");
    let every = Duration::from_secs(2);
    let mut planned = Planned::connect_every(&pool, every)
        .await
        .expect("a planned connection");

    let conn = planned.conn().await.expect("young plans kept");
    run_a_statement(conn).await;
    let young = prepared(conn).await;
    assert!(young >= 1, "the statement stays prepared: {young}");
    let conn = planned.conn().await.expect("young plans kept");
    assert_eq!(prepared(conn).await, young, "kept while young");

    tokio::time::sleep(every).await;
    let conn = planned.conn().await.expect("old plans dropped");
    assert_eq!(prepared(conn).await, 0, "dropped once old");
    // Prepared again as it runs next, with the connection's settings kept.
    run_a_statement(conn).await;
    assert_eq!(prepared(conn).await, 1);
    let seqscan: String = sqlx::raw_sql("SHOW enable_seqscan")
        .fetch_one(&mut *conn)
        .await
        .expect("SHOW")
        .get(0);
    assert_eq!(seqscan, "off", "still no sequential scans");
    planned.close_hard().await;
}
