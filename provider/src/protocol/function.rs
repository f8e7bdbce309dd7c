//! Provider-defined functions (Terraform 1.8+), as the adapter sees them:
//! a signature in plain types and a pure call. Terraform calls functions
//! without configuring the provider, so a function may use only its
//! arguments.

use super::value::{Type, Value};

/// One positional parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Its name in documentation and errors.
    pub name: &'static str,
    /// Its type constraint.
    pub ty: Type,
    /// Markdown shown in documentation.
    pub description: &'static str,
    /// Whether `null` may be passed (else Terraform refuses it before the call).
    pub allow_null: bool,
}

/// What a function takes and returns.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The parameters, in order.
    pub parameters: Vec<Parameter>,
    /// A last parameter that takes any number of arguments, zero included
    /// (Terraform's variadic parameter): how an argument is added to a
    /// function without breaking calls written before it.
    pub variadic: Option<Parameter>,
    /// The result's type.
    pub returns: Type,
    /// One line of documentation.
    pub summary: &'static str,
    /// Markdown documentation.
    pub description: String,
}

/// Why a call failed; `argument` is the 0-based position of the argument at
/// fault, when there is one, so Terraform points at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The message shown to the user.
    pub text: String,
    /// The argument at fault.
    pub argument: Option<usize>,
}

/// A provider-defined function, called as `provider::imagecopier::NAME(...)`.
pub trait Function: Send + Sync {
    /// Its name.
    fn name(&self) -> &'static str;

    /// Its signature.
    fn signature(&self) -> Signature;

    /// Calls it with arguments of the parameters' types (wholly known: no
    /// parameter allows unknown values, so Terraform waits for them).
    fn call(&self, arguments: &[Value]) -> Result<Value, CallError>;
}

impl std::fmt::Debug for dyn Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
