//! `operator crd` prints the Shop CRD (the controller comes next).

fn main() {
    print!("{}", operator::crd::crd_yaml());
}
