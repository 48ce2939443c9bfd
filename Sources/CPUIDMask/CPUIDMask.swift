// A benchmark tool, not part of effnet: makes a process see an AVX2-only CPU on an AVX-512 machine, so that the peer
// runtimes (onnxruntime's MLAS, OpenVINO's oneDNN), which pick their kernels from CPUID and have no switch to cap
// them, run their AVX2 code. tools/peer_runner.py loads this library with ctypes and calls `effnet_mask_cpuid`
// before importing a runtime. Effnet itself needs none of this: `EFFNET_ISA=avx2` forces its family.
//
// How: every CPUID answer the process can ask for is recorded first (leaves 0…max, the hypervisor and extended
// ranges, sub-leaves 0…63), with the AVX-512, AMX and AVX-VNNI feature bits cleared. Then Linux's CPUID faulting
// (`arch_prctl(ARCH_SET_CPUID, 0)`, inherited by threads created later) makes each CPUID instruction raise SIGSEGV;
// the handler answers from the table and steps over the two-byte instruction. Any other SIGSEGV is left to the
// default action. XCR0 (XGETBV) is unchanged: the runtimes test the CPUID feature bits before they look at it.

import CCPUFeatures

#if os(Linux) && arch(x86_64)
    import Glibc

    private struct Answer {
        var leaf: UInt32
        var subleaf: UInt32
        var eax: UInt32
        var ebx: UInt32
        var ecx: UInt32
        var edx: UInt32
    }

    /// Whether the answer of `leaf` depends on ECX (the sub-leaf); every other leaf ignores it. A switch, not a
    /// collection: the signal handler calls it and must not touch reference-counted storage.
    private func dependsOnSubleaf(_ leaf: UInt32) -> Bool {
        switch leaf {
        case 4, 7, 0xB, 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1A, 0x1B, 0x1D, 0x1E, 0x1F, 0x20, 0x23, 0x24,
            0x8000_001D, 0x8000_0020, 0x8000_0026:
            return true
        default:
            return false
        }
    }
    private let maxSubleaf: UInt32 = 63

    // Filled once before faulting is turned on, read only by the signal handler afterwards.
    nonisolated(unsafe) private var table: UnsafeMutablePointer<Answer>? = nil
    nonisolated(unsafe) private var tableCount = 0
    nonisolated(unsafe) private var outOfRange = Answer(leaf: 0, subleaf: 0, eax: 0, ebx: 0, ecx: 0, edx: 0)

    private func realCPUID(_ leaf: UInt32, _ subleaf: UInt32) -> Answer {
        var r: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &r) { effnet_cpuid(leaf, subleaf, $0.baseAddress!.assumingMemoryBound(to: UInt32.self)) }
        return Answer(leaf: leaf, subleaf: subleaf, eax: r.0, ebx: r.1, ecx: r.2, edx: r.3)
    }

    /// The answer with every feature an AVX2 + FMA CPU (x86-64-v3, such as AMD Zen 3) lacks cleared.
    private func masked(_ a: Answer) -> Answer {
        var a = a
        func clear(_ v: inout UInt32, _ bits: [UInt32]) { for b in bits { v &= ~(1 << b) } }
        switch (a.leaf, a.subleaf) {
        case (7, 0):
            // EBX: AVX512F, DQ, IFMA, PF, ER, CD, BW, VL. ECX: VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ.
            // EDX: 4VNNIW, 4FMAPS, VP2INTERSECT, AMX-BF16, AVX512-FP16, AMX-TILE, AMX-INT8.
            clear(&a.ebx, [16, 17, 21, 26, 27, 28, 30, 31])
            clear(&a.ecx, [1, 6, 11, 12, 14])
            clear(&a.edx, [2, 3, 8, 22, 23, 24, 25])
        case (7, 1):
            // EAX: AVX-VNNI, AVX512-BF16, AMX-FP16, AVX-IFMA. EDX: AVX-VNNI-INT8, AVX-NE-CONVERT, AMX-COMPLEX, AVX10.
            clear(&a.eax, [4, 5, 21, 23])
            clear(&a.edx, [4, 5, 8, 19])
        case (0x1D, _), (0x1E, _), (0x24, _):
            a.eax = 0
            a.ebx = 0
            a.ecx = 0
            a.edx = 0  // AMX tile and TMUL information, AVX10 version
        default:
            break
        }
        return a
    }

    private func record() -> [Answer] {
        var answers: [Answer] = []
        func range(_ base: UInt32, limit: UInt32) {
            let top = realCPUID(base, 0).eax
            guard top >= base, top - base < 256 else { return }
            for leaf in base...min(top, base + limit) {
                let subs: UInt32 = dependsOnSubleaf(leaf) ? maxSubleaf : 0
                for s in 0...subs { answers.append(masked(realCPUID(leaf, s))) }
            }
        }
        range(0, limit: 255)
        range(0x4000_0000, limit: 255)
        range(0x8000_0000, limit: 255)
        return answers
    }

    private func lookup(_ leaf: UInt32, _ ecx: UInt32) -> Answer {
        let subleaf = dependsOnSubleaf(leaf) ? min(ecx, maxSubleaf) : 0
        guard let table else { return outOfRange }
        for i in 0..<tableCount where table[i].leaf == leaf && table[i].subleaf == subleaf { return table[i] }
        return outOfRange
    }

    // Indices into `mcontext_t.gregs` (glibc's sys/ucontext.h, visible to C only with _GNU_SOURCE).
    private let regRBX = 11, regRDX = 12, regRAX = 13, regRCX = 14, regRIP = 16, gregCount = 23

    private let handler: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = {
        signal, _, context in
        guard let context else { return }
        let uc = context.assumingMemoryBound(to: ucontext_t.self)
        withUnsafeMutablePointer(to: &uc.pointee.uc_mcontext.gregs) { tuple in
            tuple.withMemoryRebound(to: Int64.self, capacity: gregCount) { regs in
                let rip = UInt(bitPattern: Int(regs[regRIP]))
                let code = UnsafePointer<UInt8>(bitPattern: rip)
                guard let code, code[0] == 0x0F, code[1] == 0xA2 else {
                    // Not a CPUID: let the fault kill the process as it would have without this library.
                    Glibc.signal(signal, SIG_DFL)
                    return
                }
                let a = lookup(UInt32(truncatingIfNeeded: regs[regRAX]),
                               UInt32(truncatingIfNeeded: regs[regRCX]))
                regs[regRAX] = Int64(a.eax)
                regs[regRBX] = Int64(a.ebx)
                regs[regRCX] = Int64(a.ecx)
                regs[regRDX] = Int64(a.edx)
                regs[regRIP] += 2
            }
        }
    }
#endif

/// Makes this process (the calling thread and every thread it creates from now on) see an AVX2-only CPU.
/// Returns the `effnet_cpu_features()` bits the process sees afterwards (1 = AVX2 only), or -1 when CPUID faulting
/// is not available (no `cpuid_fault` flag, or not x86-64 Linux), in which case nothing was changed.
@_cdecl("effnet_mask_cpuid")
public func effnetMaskCPUID() -> Int32 {
    #if os(Linux) && arch(x86_64)
        if table == nil {
            let answers = record()
            let t = UnsafeMutablePointer<Answer>.allocate(capacity: answers.count)
            t.initialize(from: answers, count: answers.count)
            let top = realCPUID(0, 0).eax
            outOfRange = realCPUID(top &+ 1, 0)  // Intel answers an unknown basic leaf with the highest one's data
            table = t
            tableCount = answers.count
            _ = lookup(0, 0)  // initializes the lazily created globals the handler reads, outside the handler
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = handler
            action.sa_flags = SA_SIGINFO
            sigemptyset(&action.sa_mask)
            guard sigaction(SIGSEGV, &action, nil) == 0 else { return -1 }
        }
        guard effnet_cpuid_set_faulting(1) == 0 else { return -1 }
        return effnet_cpu_features()
    #else
        return -1
    #endif
}
