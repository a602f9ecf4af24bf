//! CUDA C sources for the zkinfer CUDA engine, compiled at run time by NVRTC for the device present.
//!
//! The sources are concatenated, in dependency order, into one NVRTC program ([`program_source`]); the same text
//! compiles with g++ through the host emulator ([`EMU_HEADER`] before it, [`EMU_LIBRARY`] after it), which is how
//! the engine is tested on machines without a GPU.

/// The kernel source files, in the order they are concatenated (each may use what comes before it).
pub const SOURCES: &[(&str, &str)] = &[
    ("common.cuh", include_str!("../cuda/common.cuh")),
    ("field.cuh", include_str!("../cuda/field.cuh")),
    ("g1.cuh", include_str!("../cuda/g1.cuh")),
    ("scan.cu", include_str!("../cuda/scan.cu")),
    ("msm.cu", include_str!("../cuda/msm.cu")),
    ("ntt.cu", include_str!("../cuda/ntt.cu")),
    ("elementwise.cu", include_str!("../cuda/elementwise.cu")),
    ("tests.cu", include_str!("../cuda/tests.cu")),
];

/// Every `extern "C" __global__` kernel of the program (the engine resolves each one at start-up).
pub const KERNELS: &[&str] = &[
    "scan_block",
    "scan_add",
    "msm_digits",
    "msm_scatter",
    "msm_seg_counts",
    "msm_accumulate_points",
    "msm_accumulate_partials",
    "msm_bucket_gather",
    "msm_bucket_reduce",
    "msm_reduce_groups",
    "msm_window_combine",
    "ntt_twiddles",
    "ntt_permute",
    "ntt_pass",
    "fr_mul_assign",
    "fr_add_assign",
    "fr_sub_assign",
    "fr_add_scaled",
    "fr_scale",
    "fr_distribute_powers",
    "test_fq_ops",
    "test_fr_ops",
];

/// The host emulation header (CUDA qualifiers, thread indices, __syncthreads, atomics for g++).
pub const EMU_HEADER: &str = include_str!("../emu/emu.hpp");

/// The emulator's launcher and kernel registry (compiled after the program).
pub const EMU_LIBRARY: &str = include_str!("../emu/emu.cpp");

/// The whole NVRTC program: every source file in order, each preceded by a `#line` marker so compiler messages
/// name the original file.
pub fn program_source() -> String {
    let mut s = String::new();
    for (name, text) in SOURCES {
        s.push_str(&format!("#line 1 \"{name}\"\n"));
        s.push_str(text);
        if !text.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

/// The single translation unit g++ compiles into the emulator library.
pub fn emulator_source() -> String {
    format!("{EMU_HEADER}\n{}\n#line 1 \"emu.cpp\"\n{EMU_LIBRARY}", program_source())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_is_defined_once_and_registered_in_the_emulator() {
        let program = program_source();
        // Kernel definitions, with any `__launch_bounds__(..)` between the qualifier and `void`.
        let kernel_lines: Vec<&str> = program.lines().filter(|l| l.contains("__global__ ")).collect();
        for k in KERNELS {
            let def = format!(" void {k}(");
            assert_eq!(kernel_lines.iter().filter(|l| l.contains(&def)).count(), 1, "kernel {k}");
            assert!(
                EMU_LIBRARY.contains(&format!("EMU_KERNEL({k})")) || EMU_LIBRARY.contains(&format!("EMU_KERNEL_SYNC({k})")),
                "kernel {k} missing from the emulator registry"
            );
        }
        assert_eq!(kernel_lines.len(), KERNELS.len(), "a kernel is missing from KERNELS");
    }
}
