import CCPUFeatures

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A set of kernels compiled for one instruction set (`Sources/Kernels*`), chosen once per process.
///
/// Each family is the same kernel templates compiled with its own `-target-cpu`, plus GEMM micro-tiles shaped for
/// its registers: AVX-512 8×32 (16 `SIMD16<Float>` accumulators of 32 zmm), AVX2 and NEON 6×16 (12 `SIMD8<Float>`
/// accumulators of 16 ymm; 24 of NEON's 32 q registers), scalar the same source compiled for baseline x86-64 with
/// 8-wide panels only (6×8: 12 of SSE2's 16 xmm registers).
package enum KernelFamily: String, Sendable, CaseIterable {
    case avx512, avx2, neon, scalar

    /// Rows of the family's GEMM micro-tile.
    package var microRows: Int { self == .avx512 ? 8 : 6 }

    /// The width of the next packed panel when `remaining` output channels are left.
    package func panelWidth(remaining: Int) -> Int {
        switch self {
        case .avx512: return remaining > 24 ? 32 : remaining > 16 ? 24 : 16
        case .avx2, .neon: return remaining > 8 ? 16 : 8
        // SSE2 has 16 xmm registers: the 6×8 tile (12 accumulators) fits, the 6×16 one spilled.
        case .scalar: return 8
        }
    }

    /// FP32 multiply-adds per cycle per vector FMA instruction (lanes).
    package var lanes: Int {
        switch self {
        case .avx512: return 16
        case .avx2: return 8
        case .neon: return 4
        case .scalar: return 1
        }
    }

    /// The families this CPU can run, best first (scalar always).
    package static let supported: [KernelFamily] = {
        let f = Int(effnet_cpu_features())
        var out = [KernelFamily]()
        if f & EFFNET_CPU_AVX512 != 0 && compiled.contains(.avx512) { out.append(.avx512) }
        if f & EFFNET_CPU_AVX2 != 0 && compiled.contains(.avx2) { out.append(.avx2) }
        if f & EFFNET_CPU_NEON != 0 && compiled.contains(.neon) { out.append(.neon) }
        out.append(.scalar)
        return out
    }()

    /// The families built into this binary (by target architecture; see Package.swift).
    package static var compiled: [KernelFamily] {
        #if arch(x86_64)
            return [.avx512, .avx2, .scalar]
        #elseif arch(arm64)
            return [.neon, .scalar]
        #else
            return [.scalar]
        #endif
    }

    /// The family this process uses: `EFFNET_ISA` when set, else the best one the CPU supports.
    package static let selection: Result<KernelFamily, KernelSelectionError> = select(
        environment: getenv("EFFNET_ISA").map { String(cString: $0) }, supported: supported)

    /// Picks a family from the value of `EFFNET_ISA` (nil or empty: the best supported).
    package static func select(environment value: String?, supported: [KernelFamily]) -> Result<
        KernelFamily, KernelSelectionError
    > {
        guard let value, !value.isEmpty else { return .success(supported[0]) }
        let names = supported.map(\.rawValue).joined(separator: ", ")
        guard let family = KernelFamily(rawValue: value.lowercased()) else {
            return .failure(
                KernelSelectionError(
                    message: "EFFNET_ISA=\(value): unknown kernel family (expected avx512, avx2, neon or scalar; "
                        + "this CPU supports \(names))"))
        }
        guard supported.contains(family) else {
            return .failure(
                KernelSelectionError(
                    message: "EFFNET_ISA=\(value): this CPU (or this build) does not support \(family.rawValue) "
                        + "(supported: \(names))"))
        }
        return .success(family)
    }

    /// The selected family. A bad `EFFNET_ISA` stops the process with its message: the CLI checks `selection`
    /// first and exits 2 instead.
    package static let active: KernelFamily = {
        switch selection {
        case .success(let family): return family
        case .failure(let error): fatalError(error.message)
        }
    }()

    /// The CPU's model name as it reports it (x86 brand string), or "unknown".
    package static let cpuModel: String = {
        var buffer = [CChar](repeating: 0, count: 64)
        effnet_cpu_model(&buffer, Int32(buffer.count))
        let name = String(cString: buffer)
        return name.isEmpty ? "unknown" : name
    }()
}

/// Why `EFFNET_ISA` cannot be honoured.
package struct KernelSelectionError: Error, Sendable {
    package var message: String
}
