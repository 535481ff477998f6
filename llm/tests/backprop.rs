//! The gradient accumulation of the patched candle-core (vendor/README.md):
//! the first contribution to a gradient is stored instead of added to
//! zeros, later ones added or subtracted. Each case is a small graph whose
//! gradients are worked out by hand, chosen to reach one path of the patch:
//! a single contribution, several, the subtracted side of `Sub` and `Neg`,
//! a strided first contribution (transpose, broadcast), a tensor used on
//! both sides of one node, and the scattered ones (`index_select`,
//! `gather`) that still start from zeros. Values are compared with `==`,
//! so a zero's sign is not checked: the patch may store −0 where candle
//! stored +0 (vendor/README.md). Order is not checked here either (two
//! terms at most); `train_fingerprint` is the check that the weights keep
//! their bits.
use candle_core::{DType, Device, Tensor, Var};

fn var(v: &[f64], shape: (usize, usize)) -> Var {
    Var::from_tensor(&Tensor::from_slice(v, shape, &Device::Cpu).unwrap()).unwrap()
}

fn grad(g: &candle_core::backprop::GradStore, v: &Var) -> Vec<Vec<f64>> {
    let t = g.get(v.as_tensor()).expect("a gradient");
    assert!(t.is_contiguous(), "stored gradients are contiguous");
    t.to_vec2().unwrap()
}

#[test]
fn first_later_and_subtracted_contributions() {
    let a = var(&[1., 2., 3., 4., 5., 6.], (2, 3));
    let b = var(&[0.5, -1., 2., 0., 3., -2.], (2, 3));
    // y = Σ (a − b) − Σ b + Σ −a + Σ a·b  ⇒  ∂a = 1 − 1 + b, ∂b = −1 − 1 + a
    let y = ((a.as_tensor() - b.as_tensor()).unwrap().sum_all().unwrap()
        - b.as_tensor().sum_all().unwrap())
    .unwrap();
    let y = (y + a.as_tensor().neg().unwrap().sum_all().unwrap()).unwrap();
    let y = (y + (a.as_tensor() * b.as_tensor()).unwrap().sum_all().unwrap()).unwrap();
    let g = y.backward().unwrap();
    assert_eq!(grad(&g, &a), vec![vec![0.5, -1., 2.], vec![0., 3., -2.]]);
    assert_eq!(grad(&g, &b), vec![vec![-1., 0., 1.], vec![2., 3., 4.]]);
}

#[test]
fn a_tensor_on_both_sides_of_one_node() {
    let a = var(&[1., -2., 3., 0.25], (2, 2));
    // y = Σ a·a + Σ (a + a) − Σ (a − a)  ⇒  ∂a = 2a + 2 − 0
    let t = a.as_tensor();
    let y = ((t * t).unwrap().sum_all().unwrap() + (t + t).unwrap().sum_all().unwrap()).unwrap();
    let y = (y - (t - t).unwrap().sum_all().unwrap()).unwrap();
    let g = y.backward().unwrap();
    assert_eq!(grad(&g, &a), vec![vec![4., -2.], vec![8., 2.5]]);
}

#[test]
fn strided_and_later_contributions_add_up() {
    let a = var(&[1., 2., 3., 4., 5., 6.], (2, 3));
    let w = var(&[1., 10., 100., 1000., 1e4, 1e5], (3, 2));
    let bias = var(&[7., 8.], (1, 2));
    // y = Σ (aᵀ ∘ w) + Σ (a·w + bias)  ⇒  ∂a = wᵀ + 1·wᵀ-row-sums, ∂w = aᵀ + aᵀ·1, ∂bias = 2 per column
    let at = a.as_tensor().t().unwrap();
    let y1 = (&at * w.as_tensor()).unwrap().sum_all().unwrap();
    let prod = a.as_tensor().matmul(w.as_tensor()).unwrap();
    let b2 = bias.as_tensor().broadcast_as((2, 2)).unwrap();
    let y2 = (prod + b2).unwrap().sum_all().unwrap();
    let g = (y1 + y2).unwrap().backward().unwrap();
    // ∂/∂a of Σ a·w is 1·wᵀ: row i of a gets Σ_j w[k][j] at column k
    let wsum = [11., 1100., 110000.];
    let wt = [[1., 100., 1e4], [10., 1000., 1e5]];
    let want_a: Vec<Vec<f64>> = (0..2)
        .map(|i| (0..3).map(|k| wt[i][k] + wsum[k]).collect())
        .collect();
    assert_eq!(grad(&g, &a), want_a);
    // ∂/∂w of Σ a·w is aᵀ·1: column sums of a repeated over j
    let at_v = [[1., 4.], [2., 5.], [3., 6.]];
    let asum = [5., 7., 9.];
    let want_w: Vec<Vec<f64>> = (0..3)
        .map(|k| (0..2).map(|j| at_v[k][j] + asum[k]).collect())
        .collect();
    assert_eq!(grad(&g, &w), want_w);
    assert_eq!(grad(&g, &bias), vec![vec![2., 2.]]);
}

#[test]
fn scattered_contributions_start_from_zeros() {
    let e = var(&[1., 2., 3., 4., 5., 6.], (3, 2));
    let ids = Tensor::new(&[2u32, 0, 2], &Device::Cpu).unwrap();
    // rows 2, 0, 2 of e, weighted 1, 2, 3 by row: ∂e row 0 = 2, row 1 = 0, row 2 = 4
    let picked = e.as_tensor().index_select(&ids, 0).unwrap();
    let wts = Tensor::new(&[[1f64], [2.], [3.]], &Device::Cpu).unwrap();
    let y = picked.broadcast_mul(&wts).unwrap().sum_all().unwrap();
    // plus a gather of column 1 of each row: +1 on column 1
    let cols = Tensor::new(&[[1u32], [1], [1]], &Device::Cpu).unwrap();
    let y = (y + e.as_tensor().gather(&cols, 1).unwrap().sum_all().unwrap()).unwrap();
    let g = y.backward().unwrap();
    assert_eq!(grad(&g, &e), vec![vec![2., 3.], vec![0., 1.], vec![4., 5.]]);
    assert_eq!(g.get(e.as_tensor()).unwrap().dtype(), DType::F64);
}

#[test]
fn a_sole_broadcast_contribution_is_stored_contiguous() {
    // Σ a: a's only contribution is the loss's seed broadcast back (stride 0)
    let a = var(&[1., 2., 3., 4.], (2, 2));
    let g = a.as_tensor().sum_all().unwrap().backward().unwrap();
    assert_eq!(grad(&g, &a), vec![vec![1., 1.], vec![1., 1.]]);
    // the same through a keep-dim sum and a broadcast multiply
    let b = var(&[1., 2., 3., 4., 5., 6.], (3, 2));
    let s = b.as_tensor().sum_keepdim(0).unwrap();
    let y = s
        .broadcast_mul(&Tensor::new(&[[2f64, 3.]], &Device::Cpu).unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    let g = y.backward().unwrap();
    assert_eq!(grad(&g, &b), vec![vec![2., 3.]; 3]);
}

#[test]
fn negated_first_stores_of_div_and_recip() {
    let a = var(&[1., 2.], (1, 2));
    let b = var(&[2., 4.], (1, 2));
    // Σ a/b + Σ 1/b  ⇒  ∂a = 1/b, ∂b = −a/b² − 1/b²
    let t = (a.as_tensor() / b.as_tensor()).unwrap().sum_all().unwrap();
    let t = (t + b.as_tensor().recip().unwrap().sum_all().unwrap()).unwrap();
    let g = t.backward().unwrap();
    assert_eq!(grad(&g, &a), vec![vec![0.5, 0.25]]);
    assert_eq!(grad(&g, &b), vec![vec![-0.5, -0.1875]]);
}

#[test]
fn a_sole_transposed_contribution_is_stored_contiguous() {
    // c is used only through cᵀ: its one contribution is the transpose
    // node's strided view of (3, 2) → (2, 3)
    let c = var(&[1., 2., 3., 4., 5., 6.], (2, 3));
    let w = Tensor::new(&[[1f64, 10.], [100., 1000.], [1e4, 1e5]], &Device::Cpu).unwrap();
    let y = (c.as_tensor().t().unwrap() * &w)
        .unwrap()
        .sum_all()
        .unwrap();
    let g = y.backward().unwrap();
    assert_eq!(
        grad(&g, &c),
        vec![vec![1., 100., 1e4], vec![10., 1000., 1e5]]
    );
}
