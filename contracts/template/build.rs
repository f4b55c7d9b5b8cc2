//! Links the wasm with a 64 KiB stack instead of the default 1 MiB: every call pays for each
//! 64 KiB page of memory an instance starts with, and contracts need little stack.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size=65536");
    }
}
