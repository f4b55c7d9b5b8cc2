//! Every protocol limit, defined once. Changing a value here is a protocol change: blocks that
//! were valid may become invalid, or the reverse.

/// Encoded size of a signed transaction.
pub const MAX_TX_BYTES: usize = 300 * 1024;
/// Size of contract code in an upload.
pub const MAX_CODE_BYTES: usize = 256 * 1024;
/// Size of constructor or call arguments (and so of a contract's input).
pub const MAX_ARGS_BYTES: usize = 64 * 1024;
/// Size of an instantiation salt.
pub const MAX_SALT_BYTES: usize = 32;
/// Length of a method name.
pub const MAX_METHOD_NAME_BYTES: usize = 64;
/// Transactions in one block.
pub const MAX_BLOCK_TXS: usize = 10_000;
/// Encoded size of a block.
pub const MAX_BLOCK_BYTES: usize = 8 * 1024 * 1024;
/// Encoded size of a receipt: the size of a block, which no receipt reaches. Within the field
/// limits (256 events of 4 topics and 4096 data bytes, 64 KiB of return data) a successful
/// receipt is at most 1,155,968 bytes; the payloads of an `ExecError` have no limit of their own.
pub const MAX_RECEIPT_BYTES: usize = MAX_BLOCK_BYTES;
/// Bytes of receipts one block may produce, encoded (what every node keeps forever for it). A
/// transaction is included only while [`MAX_TX_RECEIPT_BYTES`] more would fit.
pub const MAX_BLOCK_RECEIPT_BYTES: usize = 8 * 1024 * 1024;
/// The most one transaction's receipt can take, encoded: 256 events of 4 topics and 4 KiB,
/// 64 KiB of return data (1,155,968 bytes), with room for the fields around them.
pub const MAX_TX_RECEIPT_BYTES: usize = 1_200_000;
/// Gas of one block.
pub const MAX_BLOCK_GAS: u64 = 2_000_000_000;
/// Gas limit of one transaction.
pub const MAX_TX_GAS: u64 = 500_000_000;

/// Size of a storage key.
pub const MAX_STORAGE_KEY_BYTES: usize = 128;
/// Size of a storage value.
pub const MAX_STORAGE_VALUE_BYTES: usize = 16 * 1024;
/// Topics of one event.
pub const MAX_EVENT_TOPICS: usize = 4;
/// Data of one event.
pub const MAX_EVENT_DATA_BYTES: usize = 4 * 1024;
/// Events emitted by one transaction (over all nested calls).
pub const MAX_EVENTS_PER_TX: usize = 256;
/// Return (or revert) data of one call.
pub const MAX_RETURN_DATA_BYTES: usize = 64 * 1024;
/// Depth of nested contract calls; the outermost call has depth 1.
pub const MAX_CALL_DEPTH: usize = 8;
/// Message length accepted by the `ed25519_verify` host function.
pub const MAX_VERIFY_MESSAGE_BYTES: usize = 64 * 1024;
/// Input accepted by the hashing host functions.
pub const MAX_HASH_INPUT_BYTES: usize = 256 * 1024;

/// Deploy-time limits on a wasm module. A module that breaks one is refused before compilation.
pub mod wasm {
    /// Functions defined by the module.
    pub const MAX_FUNCTIONS: u32 = 2048;
    /// Entries in the type section.
    pub const MAX_TYPES: u32 = 512;
    /// Parameters of one function type.
    pub const MAX_PARAMS: u32 = 32;
    /// Results of one function type (MVP: at most one).
    pub const MAX_RESULTS: u32 = 1;
    /// Locals of one function, parameters included.
    pub const MAX_LOCALS: u32 = 512;
    /// Size of one function body.
    pub const MAX_FUNCTION_BODY_BYTES: u32 = 128 * 1024;
    /// Globals defined by the module.
    pub const MAX_GLOBALS: u32 = 128;
    /// Initial and maximum elements of the table.
    pub const MAX_TABLE_ELEMENTS: u64 = 4096;
    /// Initial and maximum 64 KiB pages of linear memory (1 MiB). Random loads over a larger
    /// memory miss the caches (25 ns each within 4 MiB, 136 ns within 16 MiB, against 5.8 ns
    /// within 1 MiB), more than a load's gas could pay without making every load expensive.
    pub const MAX_MEMORY_PAGES: u64 = 16;
    /// Nesting depth of blocks, loops and ifs in a function body.
    pub const MAX_NESTING_DEPTH: u32 = 256;
    /// Targets of one `br_table`.
    pub const MAX_BR_TABLE_TARGETS: u32 = 2048;
    /// Exports of the module.
    pub const MAX_EXPORTS: u32 = 256;
    /// Data segments of the module.
    pub const MAX_DATA_SEGMENTS: u32 = 512;
    /// Element segments of the module.
    pub const MAX_ELEMENT_SEGMENTS: u32 = 64;
    /// Size of a module once instrumented for the deterministic stack. The instrumentation adds a
    /// constant per function (at most 43 bytes: the entry check, a block, the exit) and at most
    /// two bytes per `return` (rewritten to a `br` of depth up to `MAX_NESTING_DEPTH`), so each
    /// original byte becomes at most 3 and a valid module of `MAX_CODE_BYTES` stays under
    /// `3 * 256 KiB + 43 * MAX_FUNCTIONS + 128` = 874,624 bytes. The cap sits above that and
    /// bounds what the engine ever compiles for one upload whatever the instrumentation becomes.
    pub const MAX_INSTRUMENTED_CODE_BYTES: usize = 4 * super::MAX_CODE_BYTES;
    /// Budget of the deterministic wasm stack shared by all frames of one transaction. Entering a
    /// function costs `FRAME_BASE_COST + params + locals + max operand stack height` of it (plus
    /// the instrumentation's own slots); an entry that would exceed the budget traps with
    /// `TrapKind::StackLimit`, long before the native stack (which differs across machines) could
    /// run out.
    pub const MAX_STACK_UNITS: u32 = 16 * 1024;
    /// Fixed stack cost of one wasm call frame.
    pub const FRAME_BASE_COST: u32 = 8;
    /// Stack cost of the host frames of one cross-contract call.
    pub const HOST_CALL_STACK_COST: u32 = 64;
}
