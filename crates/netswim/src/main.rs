//! The `netswim` binary: argument handling and printing only.

fn main() {
    println!("netswim");
}
