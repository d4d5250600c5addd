//! Small pieces shared by every Joinery binary.
//!
//! * [`fs`]: writing files so that a reader never sees a torn file and a
//!   secret never lands with loose permissions.
//! * [`duration`]: Go's `time.Duration` text form, because Teleport, tbot and
//!   the official Terraform provider all speak it (`"1h"`, `"5m0s"`).
//! * [`guid`]: the GUID form Azure writes ids in.

pub mod duration;
#[cfg(unix)]
pub mod fs;
pub mod guid;
