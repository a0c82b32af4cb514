//! `sidrad`: the sidra daemon.

fn main() {
    eprintln!("sidrad: the daemon is not implemented yet (see the sessions issue)");
    std::process::exit(2);
}
