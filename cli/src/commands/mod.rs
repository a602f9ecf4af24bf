//! One module per subcommand.

pub mod batch;
pub mod bench;
pub mod bundle;
pub mod commit;
pub mod demo;
pub mod inspect;
pub mod prove;
pub mod selftest;
pub mod setup;
pub mod verify;
