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

#endif
