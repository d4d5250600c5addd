//! How Teleport API answers become diagnostics, the same way for every
//! resource that manages Teleport objects.

use joinery_teleport::Error as TeleportError;
use joinery_tfplugin::framework::Diagnostics;

/// A kind of Teleport object, as error summaries name it (`ProvisionToken`, `Bot`).
#[derive(Debug, Clone, Copy)]
pub struct ObjectKind(pub &'static str);

impl ObjectKind {
    /// `Error <action> <kind>`, with the API's message.
    pub fn error(&self, action: &str, e: TeleportError) -> Diagnostics {
        Diagnostics::error(format!("Error {action} {}", self.0), e.to_string())
    }

    /// A read where absence is an answer (refresh, or checking a name is free).
    pub fn found<T>(&self, read: Result<T, TeleportError>) -> Result<Option<T>, Diagnostics> {
        match read {
            Ok(v) => Ok(Some(v)),
            Err(TeleportError::NotFound(_)) => Ok(None),
            Err(e) => Err(self.error("reading", e)),
        }
    }

    /// A read that must find the object; `not_found` explains when it does not.
    pub fn existing<T>(
        &self,
        read: Result<T, TeleportError>,
        not_found: impl FnOnce() -> Diagnostics,
    ) -> Result<T, Diagnostics> {
        self.found(read)?.ok_or_else(not_found)
    }

    /// The object to create exists already but is not in this state: made
    /// outside Terraform, or by an apply that was interrupted after creating
    /// it. Says how to take it over, with the import ID (`shown_id` may be
    /// masked when the ID is a secret) and how to remove it instead.
    pub fn exists(&self, type_name: &str, what: &str, shown_id: &str, remove: &str) -> Diagnostics {
        Diagnostics::error(
            format!("{} exists in Teleport", self.0),
            format!(
                "{what} already exists but is not in this Terraform state: it was created outside Terraform, or by \
                 an apply that was interrupted after creating it. To manage it here, import it into this resource \
                 (ADDRESS being this resource's address, e.g. {type_name}.this):\n\n  \
                 terraform import ADDRESS {shown_id}\n\n\
                 or add an import block:\n\n  import {{\n    to = ADDRESS\n    id = \"{shown_id}\"\n  }}\n\n\
                 To create it anew instead, remove it first: {remove}"
            ),
        )
    }

    /// A delete; already gone (expired, or deleted by hand) is done too.
    pub fn deleted(&self, delete: Result<(), TeleportError>) -> Result<(), Diagnostics> {
        match delete {
            Ok(()) | Err(TeleportError::NotFound(_)) => Ok(()),
            Err(e) => Err(self.error("deleting", e)),
        }
    }
}
