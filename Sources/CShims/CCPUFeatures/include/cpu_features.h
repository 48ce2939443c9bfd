#ifndef EFFNET_CPU_FEATURES_H
#define EFFNET_CPU_FEATURES_H

/// What the CPU and the operating system support, for choosing a kernel family at run time.
enum {
    /// AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE (what `-target-cpu haswell` may emit), and the OS saves YMM state.
    EFFNET_CPU_AVX2 = 1 << 0,
    /// AVX-512 F, CD, BW, DQ, VL (what `-target-cpu skylake-avx512` may emit) on top of AVX2, and the OS saves
    /// the opmask and ZMM state.
    EFFNET_CPU_AVX512 = 1 << 1,
    /// Advanced SIMD (arm64).
    EFFNET_CPU_NEON = 1 << 2,
};

/// A bit set of the EFFNET_CPU_* flags for the CPU this process runs on.
int effnet_cpu_features(void);

/// The CPU's model name (x86 brand string, or "" when the CPU does not report one), NUL-terminated in `buffer`.
void effnet_cpu_model(char *buffer, int size);

/// CPUID leaf `leaf`, sub-leaf `subleaf`: EAX, EBX, ECX, EDX in `out` (zeros on a CPU without CPUID).
/// Used by the benchmark's CPUID mask (Sources/CPUIDMask) to record the real answers before masking.
void effnet_cpuid(unsigned int leaf, unsigned int subleaf, unsigned int out[4]);

/// Makes the CPUID instruction fault (SIGSEGV) in this thread and the threads and processes it later creates
/// (Linux `arch_prctl(ARCH_SET_CPUID, 0)`), or restores it (`enable` = 0). Returns 0, or -1 when the kernel or the
/// CPU does not support CPUID faulting (flag `cpuid_fault` in /proc/cpuinfo).
int effnet_cpuid_set_faulting(int enable);

#endif
