// Finds libcace_c with `pkg-config cace` (the installed prefix's lib/pkgconfig on
// PKG_CONFIG_PATH), and records its folder as the binary's run path.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let output = Command::new("pkg-config")
        .args(["--libs-only-L", "cace"])
        .output()
        .expect("pkg-config could not run");
    if !output.status.success() {
        panic!(
            "pkg-config cace failed (is the install prefix's lib/pkgconfig on PKG_CONFIG_PATH?): {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for flag in String::from_utf8_lossy(&output.stdout).split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
        }
    }
    println!("cargo:rustc-link-lib=dylib=cace_c");
}
