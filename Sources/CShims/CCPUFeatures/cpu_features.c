#include "cpu_features.h"

#include <string.h>

#if defined(__linux__) && defined(__x86_64__)
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

int effnet_cpu_features(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, movbe = (c >> 22) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1,
              f16c = (c >> 29) & 1;
    if (!(fma && movbe && osxsave && avx && f16c)) return 0;
    const unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;  // XMM and YMM state
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const int bmi1 = (b >> 3) & 1, avx2 = (b >> 5) & 1, bmi2 = (b >> 8) & 1;
    const int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512cd = (b >> 28) & 1,
              avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    unsigned int ea, eb, ec, ed;
    int lzcnt = 0;
    if (__get_cpuid(0x80000001, &ea, &eb, &ec, &ed)) lzcnt = (ec >> 5) & 1;
    int features = 0;
    if (avx2 && bmi1 && bmi2 && lzcnt) features |= EFFNET_CPU_AVX2;
    if ((features & EFFNET_CPU_AVX2) && avx512f && avx512dq && avx512cd && avx512bw && avx512vl
        && (xcr0 & 0xE0) == 0xE0)  // opmask, ZMM0-15 upper halves, ZMM16-31
        features |= EFFNET_CPU_AVX512;
    return features;
}

void effnet_cpu_model(char *buffer, int size) {
    if (size <= 0) return;
    buffer[0] = 0;
    unsigned int regs[12];
    if (__get_cpuid_max(0x80000000, 0) < 0x80000004) return;
    for (unsigned int i = 0; i < 3; i++)
        __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    char brand[49];
    memcpy(brand, regs, 48);
    brand[48] = 0;
    const char *s = brand;
    while (*s == ' ') s++;
    strncpy(buffer, s, (size_t)size - 1);
    buffer[size - 1] = 0;
    for (int n = (int)strlen(buffer); n > 0 && buffer[n - 1] == ' '; n--) buffer[n - 1] = 0;
}

void effnet_cpuid(unsigned int leaf, unsigned int subleaf, unsigned int out[4]) {
    __cpuid_count(leaf, subleaf, out[0], out[1], out[2], out[3]);
}

#if defined(__linux__) && defined(__x86_64__) && defined(ARCH_SET_CPUID)
int effnet_cpuid_set_faulting(int enable) {
    return syscall(SYS_arch_prctl, ARCH_SET_CPUID, enable ? 0 : 1) == 0 ? 0 : -1;
}
#else
int effnet_cpuid_set_faulting(int enable) { (void)enable; return -1; }
#endif

#elif defined(__aarch64__)

#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
int effnet_cpu_features(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMD) ? EFFNET_CPU_NEON : 0; }
#else
int effnet_cpu_features(void) { return EFFNET_CPU_NEON; }  // Advanced SIMD is mandatory on Apple arm64
#endif

void effnet_cpu_model(char *buffer, int size) {
    if (size > 0) buffer[0] = 0;
}
void effnet_cpuid(unsigned int leaf, unsigned int subleaf, unsigned int out[4]) {
    (void)leaf, (void)subleaf;
    out[0] = out[1] = out[2] = out[3] = 0;
}
int effnet_cpuid_set_faulting(int enable) { (void)enable; return -1; }

#else

int effnet_cpu_features(void) { return 0; }
void effnet_cpu_model(char *buffer, int size) {
    if (size > 0) buffer[0] = 0;
}
void effnet_cpuid(unsigned int leaf, unsigned int subleaf, unsigned int out[4]) {
    (void)leaf, (void)subleaf;
    out[0] = out[1] = out[2] = out[3] = 0;
}
int effnet_cpuid_set_faulting(int enable) { (void)enable; return -1; }

#endif
