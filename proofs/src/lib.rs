//! `entropic-proofs` provides the linearised closed-loop analysis and plant
//! identification of MATH.md §6.
pub mod ident;
pub mod linear;
