//! The one error type of this crate: why an ABI document, a set of JSON arguments or some SCALE
//! bytes were refused. Every message names what was wrong and where.

/// Why an ABI could not be loaded, or a value could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbiError {
    /// The document is larger than [`crate::MAX_ABI_BYTES`].
    #[error("ABI document is {len} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// Size of the document.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The document is not JSON of the expected shape.
    #[error("invalid ABI JSON: {0}")]
    Json(String),
    /// The document declares a `weft_abi` version this reader does not know.
    #[error("unsupported ABI version {found} (this reader knows version {known})")]
    UnsupportedVersion {
        /// The version in the document.
        found: u64,
        /// The version this crate reads.
        known: u64,
    },
    /// The document is well-formed JSON but breaks a rule (an undefined type, a duplicate
    /// name, too many indexed fields…); the message says which.
    #[error("invalid ABI: {0}")]
    Invalid(String),
    /// The wasm module could not be read far enough to find its custom sections.
    #[error("cannot read the wasm module: {0}")]
    Wasm(String),
    /// The module has more than one `weft:abi` section.
    #[error("the wasm module has {0} `weft:abi` sections; expected at most one")]
    DuplicateSection(usize),
    /// The `weft:abi` section is not UTF-8.
    #[error("the `weft:abi` section is not UTF-8")]
    NotUtf8,
    /// The contract's ABI has no method of this name.
    #[error("the contract has no method `{0}`")]
    UnknownMethod(String),
    /// The contract's ABI has no event of this name.
    #[error("the contract has no event `{0}`")]
    UnknownEvent(String),
    /// The arguments are neither an object keyed by name nor an array in order.
    #[error("arguments must be a JSON object keyed by argument name or an array in order{hint}, got {got}")]
    ArgsShape {
        /// Extra hint (for example that a bare value is accepted for one argument).
        hint: &'static str,
        /// A short rendering of what was given.
        got: String,
    },
    /// An argument is missing from the JSON object.
    #[error("missing argument `{0}`")]
    MissingArgument(String),
    /// The JSON object names an argument the method does not have.
    #[error("unknown argument `{0}`")]
    UnknownArgument(String),
    /// The JSON array has the wrong number of items.
    #[error("expected {expected} arguments, got {found}")]
    ArgumentCount {
        /// Arguments of the method.
        expected: usize,
        /// Items in the array.
        found: usize,
    },
    /// A value does not fit its type; `path` says where (``argument `order.items[2]` ``).
    #[error("{path}: {message}")]
    Value {
        /// Where the value is, e.g. ``argument `amount` `` or ``value `owner` ``.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// Bytes do not decode as the expected type.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded (the type, with a path inside it).
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// Bytes remain after the value was decoded.
    #[error("{what} encoding has {extra} trailing bytes")]
    TrailingBytes {
        /// The type that was decoded.
        what: String,
        /// Bytes left over.
        extra: usize,
    },
}
