/// One kernel family's entry points, resolved once (`KernelDispatch` in the Runtime): the plan calls through
/// these, and each entry runs a whole kernel (a GEMM block, depthwise rows, a Winograd transform block), so the
/// indirect call is never inside an inner loop. A class, so that passing the table around is one reference.
package final class KernelTable: Sendable {
    package let family: KernelFamily
    /// Rows of the GEMM micro-tile: `gemm`'s tile indices count these.
    package let microRows: Int
    /// Row tiles × panels of one GEMM on the calling thread.
    package let gemm: @Sendable (_ p: GEMMProblem, _ tiles: Range<Int>, _ panels: Range<Int>) -> Void
    /// Depthwise output rows (input, geometry, weights, output, activation, SE sums, sums per row, rows).
    package let depthwise:
        @Sendable (
            UnsafePointer<Float>, NHWCConvGeometry, DepthwiseWeights, UnsafeMutablePointer<Float>, KernelActivation,
            UnsafeMutablePointer<Float>?, Bool, Range<Int>
        ) -> Void
    /// The activation in place over `count` floats, and their sums into the last argument when given.
    package let activation:
        @Sendable (KernelActivation, UnsafeMutablePointer<Float>, Int, UnsafeMutablePointer<Float>?) -> Void
    /// SE scale of one image (se, sums, pixels, hidden scratch, scale out).
    package let seScale:
        @Sendable (SqueezeExcite, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
            -> Void
    /// Packed weights × scale[k] per row k, for a range of panels.
    package let scalePacked:
        @Sendable (PackedWeights, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void
    /// x[p, c] *= scale[c] over a range of pixels (x, pixels, channels, scale).
    package let scaleRows: @Sendable (UnsafeMutablePointer<Float>, Range<Int>, Int, UnsafePointer<Float>) -> Void
    /// Global average pool (x, pixels per image, channels, out, images).
    package let globalAverage:
        @Sendable (UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>, Range<Int>) -> Void
    /// dst += src over a multiple of 16 floats.
    package let addVectors: @Sendable (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void
    /// Winograd input transform of tiles first ..< first + count into the V buffer (F(2×2) or F(4×4), as
    /// `WinogradTiles.variant` says).
    package let winogradInput: @Sendable (WinogradTiles, Int, Int, UnsafeMutablePointer<Float>) -> Void
    /// Winograd output transform with bias, activation and residual.
    package let winogradOutput: @Sendable (WinogradTiles, KernelActivation, WinogradOutput) -> Void
    /// The FMA peak loop: iterations × `peakMultiplyAdds` independent multiply-adds on the family's vector (seed in,
    /// a value depending on all of them out).
    package let fmaPeak: @Sendable (_ iterations: Int, _ seed: Float) -> Float
    /// Lanes × chains: float multiply-adds per `fmaPeak` iteration.
    package let peakMultiplyAdds: Int

    package init(
        family: KernelFamily, microRows: Int,
        gemm: @escaping @Sendable (GEMMProblem, Range<Int>, Range<Int>) -> Void,
        depthwise:
            @escaping @Sendable (
                UnsafePointer<Float>, NHWCConvGeometry, DepthwiseWeights, UnsafeMutablePointer<Float>,
                KernelActivation, UnsafeMutablePointer<Float>?, Bool, Range<Int>
            ) -> Void,
        activation:
            @escaping @Sendable (KernelActivation, UnsafeMutablePointer<Float>, Int, UnsafeMutablePointer<Float>?) ->
            Void,
        seScale:
            @escaping @Sendable (
                SqueezeExcite, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>
            ) -> Void,
        scalePacked:
            @escaping @Sendable (PackedWeights, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void,
        scaleRows: @escaping @Sendable (UnsafeMutablePointer<Float>, Range<Int>, Int, UnsafePointer<Float>) -> Void,
        globalAverage:
            @escaping @Sendable (UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>, Range<Int>) -> Void,
        addVectors: @escaping @Sendable (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void,
        winogradInput: @escaping @Sendable (WinogradTiles, Int, Int, UnsafeMutablePointer<Float>) -> Void,
        winogradOutput: @escaping @Sendable (WinogradTiles, KernelActivation, WinogradOutput) -> Void,
        fmaPeak: @escaping @Sendable (Int, Float) -> Float, peakMultiplyAdds: Int
    ) {
        self.family = family
        self.microRows = microRows
        self.gemm = gemm
        self.depthwise = depthwise
        self.activation = activation
        self.seScale = seScale
        self.scalePacked = scalePacked
        self.scaleRows = scaleRows
        self.globalAverage = globalAverage
        self.addVectors = addVectors
        self.winogradInput = winogradInput
        self.winogradOutput = winogradOutput
        self.fmaPeak = fmaPeak
        self.peakMultiplyAdds = peakMultiplyAdds
    }
}
