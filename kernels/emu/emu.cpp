// The emulator library: the kernel sources (compiled after emu.hpp in the same translation unit) plus a C API that
// launches a kernel by name like cuLaunchKernel (grid, block, void** args). Built and loaded by
// backend/src/engine/cuda/emu.rs; device pointers are host pointers.
// (emu.hpp, included first, brings the standard headers.)

thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;
thread_local std::barrier<>* emu_block_barrier = nullptr;

namespace {

// One kernel argument from its bytes. Copied with memcpy: the caller's bytes need not have the parameter type's
// alignment (Fr / Fq are 16-byte aligned types, a Rust [u64; 4] is 8-byte aligned).
template <class T> T load_arg(const void* p) {
    static_assert(std::is_trivially_copyable_v<T>, "kernel arguments are plain bytes");
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

// Unpacks void** args into the kernel's parameter types (each args[i] points at the argument's bytes).
template <class... A, std::size_t... I>
void call_unpacked(void (*f)(A...), void** args, std::index_sequence<I...>) {
    f(load_arg<std::remove_cv_t<std::remove_reference_t<A>>>(args[I])...);
}

struct Kernel {
    bool syncs;  // uses __syncthreads / __shared__: needs one real thread per block thread
    unsigned arity;
    void (*call)(void* fn, void** args);
    void* fn;
};

template <class... A> Kernel make_kernel(void (*f)(A...), bool syncs) {
    Kernel k;
    k.syncs = syncs;
    k.arity = sizeof...(A);
    k.fn = reinterpret_cast<void*>(f);
    k.call = [](void* fn, void** args) {
        call_unpacked(reinterpret_cast<void (*)(A...)>(fn), args, std::index_sequence_for<A...>{});
    };
    return k;
}

std::unordered_map<std::string, Kernel>& registry() {
    static std::unordered_map<std::string, Kernel> r = [] {
        std::unordered_map<std::string, Kernel> m;
#define EMU_KERNEL(name) m.emplace(#name, make_kernel(name, false));
#define EMU_KERNEL_SYNC(name) m.emplace(#name, make_kernel(name, true));
        EMU_KERNEL_SYNC(scan_block)
        EMU_KERNEL(scan_add)
        EMU_KERNEL(msm_scalar_prep)
        EMU_KERNEL(msm_digits)
        EMU_KERNEL(msm_scatter)
        EMU_KERNEL(msm_seg_counts)
        EMU_KERNEL(msm_accumulate_points)
        EMU_KERNEL(msm_accumulate_partials)
        EMU_KERNEL(msm_bucket_gather)
        EMU_KERNEL(msm_bucket_reduce)
        EMU_KERNEL(msm_reduce_groups)
        EMU_KERNEL(msm_window_combine)
        EMU_KERNEL(ntt_twiddles)
        EMU_KERNEL(ntt_permute)
        EMU_KERNEL_SYNC(ntt_pass)
        EMU_KERNEL(fr_mul_assign)
        EMU_KERNEL(fr_add_assign)
        EMU_KERNEL(fr_sub_assign)
        EMU_KERNEL(fr_add_scaled)
        EMU_KERNEL(fr_scale)
        EMU_KERNEL(fr_distribute_powers)
#ifdef ZK_TEST_KERNELS  // cuda/tests.cu, in test builds only (zkinfer-kernels feature `test-kernels`)
        EMU_KERNEL(test_fq_ops)
        EMU_KERNEL(test_fr_ops)
#endif
#undef EMU_KERNEL
#undef EMU_KERNEL_SYNC
        return m;
    }();
    return r;
}

// Launches are serialised: shared memory is function-static, and the device has one in-order stream anyway.
std::mutex launch_lock;

void run_serial(const Kernel& k, dim3 grid, dim3 block, void** args) {
    gridDim = grid;
    blockDim = block;
    for (unsigned b = 0; b < grid.x; b++) {
        blockIdx = dim3{b, 0, 0};
        for (unsigned t = 0; t < block.x; t++) {
            threadIdx = dim3{t, 0, 0};
            k.call(k.fn, args);
        }
    }
}

void run_threads(const Kernel& k, dim3 grid, dim3 block, void** args) {
    std::barrier<> bar(block.x);
    std::vector<std::thread> pool;
    pool.reserve(block.x);
    for (unsigned t = 0; t < block.x; t++) {
        pool.emplace_back([&, t] {
            gridDim = grid;
            blockDim = block;
            threadIdx = dim3{t, 0, 0};
            emu_block_barrier = &bar;
            for (unsigned b = 0; b < grid.x; b++) {
                blockIdx = dim3{b, 0, 0};
                k.call(k.fn, args);
                bar.arrive_and_wait();  // the block is done before the next one reuses shared memory
            }
        });
    }
    for (auto& th : pool) th.join();
}

}  // namespace

extern "C" {

// 0 on success, 1 unknown kernel, 2 bad launch shape, 3 wrong argument count.
int zk_emu_launch(const char* name, unsigned grid, unsigned block, void** args, unsigned nargs) {
    auto& r = registry();
    auto it = r.find(name);
    if (it == r.end()) return 1;
    if (block == 0 || block > 1024 || grid == 0) return 2;
    if (nargs != it->second.arity) return 3;
    std::lock_guard<std::mutex> g(launch_lock);
    dim3 gd{grid, 1, 1}, bd{block, 1, 1};
    if (it->second.syncs)
        run_threads(it->second, gd, bd, args);
    else
        run_serial(it->second, gd, bd, args);
    return 0;
}

int zk_emu_has_kernel(const char* name) { return registry().count(name) ? 1 : 0; }

}
