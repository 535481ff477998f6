use entropic_proofs::stability_grid::*;
#[test]
#[ignore]
fn explore() {
    let plant = identify_plant().unwrap();
    let g = plant.fit.g;
    for (d, form, s, r) in [
        (0usize, Form::P, 2.2, 0.0),
        (0, Form::Before, 2.25, 0.05),
        (2, Form::P, 0.771, 0.0),
        (0, Form::P, 2.07, 0.0),
    ] {
        let p = Point {
            d,
            form,
            kp: s / g,
            ki: r * s / g,
            target: plant.h0 - E0,
            steps: 240,
            alpha_max: f64::INFINITY,
            rho: 1.2,
        };
        let (rec, st) = run_point(&p).unwrap();
        println!("{p:?} stopped {st} len {}", rec.len());
        let e: Vec<String> = rec
            .iter()
            .step_by(6)
            .map(|r| format!("{:.3}/{:.0}", r.entropy - p.target, r.alpha.unwrap_or(0.0)))
            .collect();
        println!("{}", e.join(" "));
    }
}
