//! Repository functions: one module per table group. Each takes a pool (or
//! any executor) and returns domain types; every query on a hot path is a
//! range scan or a key lookup on an index named in `migrations/`. The REST
//! handlers and the server functions behind the pages both call these, so
//! there is one copy of each query.

pub mod conversations;
pub mod inbox;
pub mod messages;
pub mod sessions;
pub mod users;

/// Milliseconds since the epoch of a `timestamptz` expression, in SQL.
macro_rules! epoch_ms {
    ($column:literal) => {
        concat!("(extract(epoch FROM ", $column, ") * 1000)::int8")
    };
}
pub(crate) use epoch_ms;
