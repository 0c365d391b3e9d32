fn main() {
    println!("rbuild");
}
