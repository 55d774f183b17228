use tcpsim::rng::Ppm;
use tcpsim::tcp::CongestionControl;
use tcpsim::theory::experiment::Setup;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let p: f64 = args[1].parse().unwrap();
    let bytes: u64 = args[2].parse().unwrap();
    let sack = args.get(3).is_some();
    for seed in 1..=3 {
        let s = Setup { congestion_control: CongestionControl::NewReno, sack, loss: Ppm::from_f64(p).unwrap(), seed, bytes };
        let m = s.run();
        println!("{m:?}");
        println!("goodput {:.0} mathis {:.0} ({:.3}) padhye {:.0} ({:.3}) p {:.5} pi {:.5} events {}", m.goodput(), m.mathis(), m.goodput()/m.mathis(), m.padhye(), m.goodput()/m.padhye(), m.loss_rate(), m.loss_indication_rate(), m.loss_indications());
    }
}
