//! Compiles the CUDA kernel program with NVRTC — the same `compile` function and options the CUDA engine uses — for
//! every architecture given (default: sm_75 and sm_90), and checks that every kernel is in each cubin. Needs only
//! libnvrtc (no GPU, no driver). Exit status 1 with NVRTC's log on any failure. `ci/check-kernels` runs this.
//!
//! As an example it builds with the backend's dev-dependencies, so the program it compiles is the production
//! sources followed by the test kernels (`cuda/tests.cu`, feature `test-kernels`): one compile checks both, since
//! the test file only appends kernels after the production ones.
//!
//!   cargo run -p zkinfer-backend --features cuda --example check_kernels [-- sm_75 sm_90 ...]

use std::process::ExitCode;
use std::time::Instant;

use zkinfer_backend::engine::cuda::row_kernel::{self, RowKernel};
use zkinfer_backend::engine::cuda::compile;

fn main() -> ExitCode {
    let mut archs: Vec<String> = std::env::args().skip(1).collect();
    if archs.is_empty() {
        archs = vec!["sm_75".into(), "sm_90".into()];
    }
    if !compile::nvrtc_present() {
        eprintln!("error: libnvrtc not found (set LD_LIBRARY_PATH to a folder holding libnvrtc.so.12)");
        return ExitCode::FAILURE;
    }
    match compile::nvrtc_version() {
        Ok((major, minor)) => println!("NVRTC {major}.{minor}"),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    if !zkinfer_kernels::WITH_TEST_KERNELS {
        eprintln!("error: built without the test kernels (zkinfer-kernels feature `test-kernels`)");
        return ExitCode::FAILURE;
    }
    let sources: Vec<&str> = zkinfer_kernels::program_files().map(|(name, _)| *name).collect();
    let kernels: Vec<&str> = zkinfer_kernels::program_kernels().collect();
    println!(
        "program: {} ({} kernels, of which {} test kernels)",
        sources.join(" + "),
        kernels.len(),
        zkinfer_kernels::TEST_KERNELS.len()
    );
    let mut failed = false;
    for arch in &archs {
        let t = Instant::now();
        match compile::compile(arch) {
            Ok(c) => {
                let missing: Vec<&str> = kernels
                    .iter()
                    .copied()
                    .filter(|k| !c.cubin.windows(k.len() + 1).any(|w| w[..k.len()] == *k.as_bytes() && w[k.len()] == 0))
                    .collect();
                println!(
                    "{arch}: ok, cubin {} bytes, {:.1} s, options {:?}",
                    c.cubin.len(),
                    t.elapsed().as_secs_f64(),
                    compile::options(arch)
                );
                if !c.log.is_empty() {
                    println!("{arch}: NVRTC log:\n{}", c.log);
                }
                if !missing.is_empty() {
                    eprintln!("{arch}: kernels missing from the cubin: {missing:?}");
                    failed = true;
                }
            }
            Err(e) => {
                eprintln!("{arch}: FAILED\n{e}");
                failed = true;
            }
        }
        // A kernel generated from a row program using every op kind (what the quotient compiles at run time).
        let t = Instant::now();
        let kernel = RowKernel::new(&row_kernel::every_op_program());
        match compile::compile_source(&compile::generated_program(&kernel.source), c"generated.cu", arch) {
            Ok(c) if c.cubin.windows(row_kernel::KERNEL.len()).any(|w| w == row_kernel::KERNEL.as_bytes()) => {
                println!("{arch}: generated row-program kernel ok, cubin {} bytes, {:.1} s", c.cubin.len(), t.elapsed().as_secs_f64())
            }
            Ok(_) => {
                eprintln!("{arch}: the generated kernel `{}` is missing from its cubin", row_kernel::KERNEL);
                failed = true;
            }
            Err(e) => {
                eprintln!("{arch}: generated row-program kernel FAILED\n{e}\nsource:\n{}", kernel.source);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        println!("all kernels compile for {}", archs.join(", "));
        ExitCode::SUCCESS
    }
}
