//! CUDA C sources for the zkinfer CUDA engine, compiled at run time by NVRTC for the device present.
//!
//! The sources are concatenated, in dependency order, into one NVRTC program ([`program_source`]); the same text
//! compiles with g++ through the host emulator ([`EMU_HEADER`] before it, [`EMU_LIBRARY`] after it), which is how
//! the engine is tested on machines without a GPU.
//!
//! Test kernels (`cuda/tests.cu`: raw field arithmetic that the tests check against halo2curves) join the program
//! only with the feature `test-kernels`, which the backend enables as a dev-dependency: test builds carry them,
//! the production program does not.

/// The kernel source files, in the order they are concatenated (each may use what comes before it).
pub const SOURCES: &[(&str, &str)] = &[
    ("common.cuh", include_str!("../cuda/common.cuh")),
    ("field.cuh", include_str!("../cuda/field.cuh")),
    ("g1.cuh", include_str!("../cuda/g1.cuh")),
    ("scan.cu", include_str!("../cuda/scan.cu")),
    ("msm.cu", include_str!("../cuda/msm.cu")),
    ("ntt.cu", include_str!("../cuda/ntt.cu")),
    ("elementwise.cu", include_str!("../cuda/elementwise.cu")),
];

/// Every `extern "C" __global__` kernel of [`SOURCES`] (the production kernels).
pub const KERNELS: &[&str] = &[
    "scan_block",
    "scan_add",
    "msm_scalar_prep",
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
];

/// Whether this build's program includes the test kernels (feature `test-kernels`).
pub const WITH_TEST_KERNELS: bool = cfg!(feature = "test-kernels");

/// The test kernel sources, appended after [`SOURCES`] (they use its field arithmetic).
#[cfg(feature = "test-kernels")]
pub const TEST_SOURCES: &[(&str, &str)] = &[("tests.cu", include_str!("../cuda/tests.cu"))];
#[cfg(not(feature = "test-kernels"))]
pub const TEST_SOURCES: &[(&str, &str)] = &[];

/// The kernels of [`TEST_SOURCES`].
#[cfg(feature = "test-kernels")]
pub const TEST_KERNELS: &[&str] = &["test_fq_ops", "test_fr_ops"];
#[cfg(not(feature = "test-kernels"))]
pub const TEST_KERNELS: &[&str] = &[];

/// The source files of this build's program: [`SOURCES`], then [`TEST_SOURCES`].
pub fn program_files() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    SOURCES.iter().chain(TEST_SOURCES)
}

/// Every kernel of this build's program (the engine resolves each one at start-up): [`KERNELS`], then
/// [`TEST_KERNELS`].
pub fn program_kernels() -> impl Iterator<Item = &'static str> {
    KERNELS.iter().chain(TEST_KERNELS).copied()
}

/// The host emulation header (CUDA qualifiers, thread indices, __syncthreads, atomics for g++).
pub const EMU_HEADER: &str = include_str!("../emu/emu.hpp");

/// The emulator's launcher and kernel registry (compiled after the program).
pub const EMU_LIBRARY: &str = include_str!("../emu/emu.cpp");

/// The whole NVRTC program: every source file of [`program_files`] in order, each preceded by a `#line` marker so
/// compiler messages name the original file.
pub fn program_source() -> String {
    let mut s = String::new();
    for (name, text) in program_files() {
        s.push_str(&format!("#line 1 \"{name}\"\n"));
        s.push_str(text);
        if !text.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

/// The field arithmetic alone (`common.cuh`, `field.cuh`), which kernels generated at run time (the CUDA engine's
/// row programs, `backend/src/engine/cuda/row_kernel.rs`) are compiled after: NVRTC and the emulator prepend it.
pub fn field_prelude() -> String {
    let mut s = String::new();
    for (name, text) in SOURCES.iter().filter(|(n, _)| matches!(*n, "common.cuh" | "field.cuh")) {
        s.push_str(&format!("#line 1 \"{name}\"\n"));
        s.push_str(text);
        if !text.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

/// The single translation unit g++ compiles into the emulator library. `ZK_TEST_KERNELS` tells the emulator's
/// registry to list the test kernels too.
pub fn emulator_source() -> String {
    let test_kernels = if WITH_TEST_KERNELS { "#define ZK_TEST_KERNELS 1\n" } else { "" };
    format!("{test_kernels}{EMU_HEADER}\n{}\n#line 1 \"emu.cpp\"\n{EMU_LIBRARY}", program_source())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_is_defined_once_and_registered_in_the_emulator() {
        let program = program_source();
        // Kernel definitions, with any `__launch_bounds__(..)` between the qualifier and `void`.
        let kernel_lines: Vec<&str> = program.lines().filter(|l| l.contains("__global__ ")).collect();
        for k in program_kernels() {
            let def = format!(" void {k}(");
            assert_eq!(kernel_lines.iter().filter(|l| l.contains(&def)).count(), 1, "kernel {k}");
            assert!(
                EMU_LIBRARY.contains(&format!("EMU_KERNEL({k})")) || EMU_LIBRARY.contains(&format!("EMU_KERNEL_SYNC({k})")),
                "kernel {k} missing from the emulator registry"
            );
        }
        assert_eq!(kernel_lines.len(), program_kernels().count(), "a kernel is missing from KERNELS or TEST_KERNELS");
    }

    #[test]
    fn test_kernels_join_the_program_only_with_their_feature() {
        let program = program_source();
        assert_eq!(program.contains("#line 1 \"tests.cu\""), WITH_TEST_KERNELS);
        assert_eq!(program.contains("test_fr_ops"), WITH_TEST_KERNELS);
        assert_eq!(emulator_source().contains("#define ZK_TEST_KERNELS"), WITH_TEST_KERNELS);
        // The registry names the test kernels only under ZK_TEST_KERNELS, so a production emulator builds without them.
        let guarded = EMU_LIBRARY.split("#ifdef ZK_TEST_KERNELS").nth(1).and_then(|s| s.split("#endif").next());
        assert!(guarded.is_some_and(|g| g.contains("EMU_KERNEL(test_fr_ops)") && g.contains("EMU_KERNEL(test_fq_ops)")));
    }
}
