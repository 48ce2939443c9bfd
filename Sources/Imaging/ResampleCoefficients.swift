/// The fixed-point filter taps of one axis of PIL's 8-bit resampler (`precompute_coeffs` and
/// `normalize_coeffs_8bpc` in Pillow's `Resample.c`).
///
/// For output index i the filter is centred on `center = (i + 0.5)·scale` with `scale = in/out`; its support is
/// `filter.support · max(scale, 1)`; the taps cover source indices `[trunc(center − support + 0.5),
/// trunc(center + support + 0.5))` clipped to the image; tap j weighs `filter((j − center + 0.5) / max(scale, 1))`,
/// the weights are divided by their sum, and finally rounded half away from zero to 22 fractional bits
/// (`PRECISION_BITS = 32 − 8 − 2`). Applying them: `clamp((Σ pixel·weight + 2²¹) >> 22, 0, 255)`. Every step is
/// done in the same order and precision as Pillow, so the result is bit-exact, not merely within ±1.
struct ResampleCoefficients {
    static let precisionBits = 22
    /// 2²¹: the rounding term every accumulator starts from.
    static let half = Int32(1) << (precisionBits - 1)

    /// Row length of `weights` (PIL's `ksize`: 2·ceil(support) + 1).
    let kernelSize: Int
    /// The output indices the tables cover (a crop window: a 1 × 1,000,000 image resized for a 224 crop needs
    /// 224 rows of taps, not 224,000,000).
    let outputs: Range<Int>
    /// First source index of each covered output index (`starts[i − outputs.lowerBound]`).
    let starts: [Int]
    /// Number of taps of each covered output index (≤ kernelSize).
    let counts: [Int]
    /// `outputs.count × kernelSize` fixed-point weights; entries past a row's count are 0.
    let weights: [Int32]

    /// First source index of output index `i` (in `outputs`).
    @inline(__always) func start(_ i: Int) -> Int { starts[i - outputs.lowerBound] }
    /// Number of taps of output index `i` (in `outputs`).
    @inline(__always) func count(_ i: Int) -> Int { counts[i - outputs.lowerBound] }
    /// Offset of output index `i`'s first weight in `weights`.
    @inline(__always) func weightOffset(_ i: Int) -> Int { (i - outputs.lowerBound) * kernelSize }

    /// The taps of the output indices `outputs` (default: all of `0..<outSize`) of a resize from `inSize` to
    /// `outSize`; each index's taps depend only on the index, so a window's tables equal the full table's rows.
    init(inSize: Int, outSize: Int, interpolation: Interpolation, outputs window: Range<Int>? = nil) {
        precondition(inSize > 0 && outSize > 0, "resampling needs positive sizes, got \(inSize) → \(outSize)")
        let outputs = window ?? 0..<outSize
        precondition(outputs.lowerBound >= 0 && outputs.upperBound <= outSize, "window outside the output")
        // PIL passes the box edges as C floats and subtracts them in float before widening to double.
        let scale = Double(Float(inSize) - Float(0)) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = interpolation.support * filterScale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var starts = [Int](repeating: 0, count: outputs.count)
        var counts = [Int](repeating: 0, count: outputs.count)
        var weights = [Int32](repeating: 0, count: outputs.count * ksize)
        var k = [Double](repeating: 0, count: ksize)
        let ss = 1.0 / filterScale
        for i in outputs {
            let r = i - outputs.lowerBound
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)  // Int(_:) truncates toward zero, as C's (int) cast
            let hi = min(Int(center + support + 0.5), inSize)
            let n = hi - lo
            var sum = 0.0
            for j in 0..<n {
                let w = interpolation.weight((Double(j + lo) - center + 0.5) * ss)
                k[j] = w
                sum += w
            }
            for j in 0..<n {
                let w = sum != 0 ? k[j] / sum : k[j]
                let scaled = w * Double(1 << ResampleCoefficients.precisionBits)
                weights[r * ksize + j] = Int32(w < 0 ? -0.5 + scaled : 0.5 + scaled)
            }
            starts[r] = lo
            counts[r] = n
        }
        self.kernelSize = ksize
        self.outputs = outputs
        self.starts = starts
        self.counts = counts
        self.weights = weights
    }

    /// The source indices the taps of `outputs` read (tap ranges only grow with the output index).
    func sourceRange(of outputs: Range<Int>) -> Range<Int> {
        start(outputs.lowerBound)..<(start(outputs.upperBound - 1) + count(outputs.upperBound - 1))
    }

    /// PIL's `clip8`: drop the 22 fractional bits (arithmetic shift, i.e. floor) and clamp to 0…255.
    @inline(__always)
    static func clip8(_ sum: Int32) -> UInt8 {
        let v = sum >> Int32(precisionBits)
        return v < 0 ? 0 : v > 255 ? 255 : UInt8(truncatingIfNeeded: v)
    }
}
