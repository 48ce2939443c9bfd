import Foundation
import Testing

@testable import Runtime

@Suite struct ActivationTests {
    /// fastExp is a degree-6 polynomial after Cody–Waite reduction: within 3 ulp (≈ 4e-7 relative) of e^x.
    @Test func fastExpMatchesExp() {
        var x: Float = -87
        while x < 88 {
            let lanes = SIMD16<Float>((0..<16).map { x + Float($0) * 0.013 })
            let e = fastExp(lanes)
            for i in 0..<16 {
                let ref = Foundation.exp(Double(lanes[i]))
                #expect(abs(Double(e[i]) - ref) <= 4e-7 * ref, "x = \(lanes[i])")
            }
            x += 0.37
        }
    }

    /// Every activation against its float64 reference: 1e-6 absolute + 2e-6 relative (fastExp's error, carried
    /// through one division).
    @Test(arguments: KernelActivation.allCases)
    func activationMatchesReference(_ activation: KernelActivation) {
        var rng = SeededGenerator(seed: 7)
        let xs = rng.floats(1000, in: -12...12) + [-100, -30, -6, -3, 0, 3, 6, 30, 100]
        for x in xs {
            let got = activation.apply(x)
            let ref = Double(activation.reference(x))
            #expect(abs(Double(got) - ref) <= 1e-6 + 2e-6 * abs(ref), "\(activation)(\(x)) = \(got), want \(ref)")
        }
    }

    /// The in-place buffer form at lengths around the vector width (tails go through the partial path).
    @Test(arguments: [0, 1, 3, 15, 16, 17, 33])
    func bufferFormMatchesLanes(_ n: Int) {
        var rng = SeededGenerator(seed: UInt64(n))
        let xs = rng.floats(n, in: -8...8)
        let b = buffer(xs)
        KernelActivation.silu.apply(b.pointer, count: n)
        for i in 0..<n { #expect(b.pointer[i] == KernelActivation.silu.apply(xs[i])) }
        #expect(b.pointer[n] == 0)  // guard: nothing written past the end
    }
}
