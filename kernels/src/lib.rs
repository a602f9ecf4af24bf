//! CUDA C sources for the zkinfer CUDA engine, compiled at run time by NVRTC for the device present.
//!
//! Nothing lives here yet: the kernels arrive with the CUDA engine issue. The crate exists so the workspace has the
//! layout of DESIGN.md and later work slots in without moving code.
