//! A Rust host of cace: adds a model, streams a completion, cancels a request, reads the metrics.
//!   cace_rust_host MODEL_PATH
use cace::{Engine, Event};

fn run(path: &str) -> Result<bool, cace::Error> {
    println!("cace {}", cace::version());
    let engine = Engine::new(256 << 20, "cace")?;
    engine.add_model(path, "tiny")?;
    let mut ok = true;

    let mut stream = engine.stream("tiny", "def fib(n):", 12)?;
    let mut pieces = 0;
    while let Some(event) = stream.next_event() {
        match event {
            Event::Piece(text) => {
                pieces += 1;
                print!("{}", text);
            }
            Event::Done(result) => {
                println!("\nstreamed: {} pieces, {:?}", pieces, result);
                ok &= result.is_ok() && pieces > 0;
            }
        }
    }

    let mut cancelled = engine.stream("tiny", "def fib(n):", 64)?;
    let was_pending = cancelled.cancel()?;
    while let Some(event) = cancelled.next_event() {
        if let Event::Done(result) = event {
            println!("cancelled: was pending {}, {:?}", was_pending, result);
            ok &= !was_pending || matches!(result, Err(ref e) if e.code == cace::CANCELLED);
        }
    }

    let metrics = engine.prometheus_text()?;
    println!("metrics: {} bytes of Prometheus text", metrics.len());
    ok &= metrics.contains("cace_requests_total");
    Ok(ok)
}

fn main() {
    let path = match std::env::args().nth(1) {
        Some(path) => path,
        None => {
            eprintln!("usage: cace_rust_host MODEL_PATH");
            std::process::exit(2);
        }
    };
    match run(&path) {
        Ok(true) => println!("ok"),
        Ok(false) => {
            println!("FAILED");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("error {}: {}", e.code, e.message);
            std::process::exit(1);
        }
    }
}
