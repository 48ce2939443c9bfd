import KernelCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// MBConv depth-first: each worker takes a run of depthwise output rows and, band by band, runs
/// the expand GEMM on just the input rows the band needs into an L2-sized per-worker buffer, the depthwise kernel
/// on that buffer, and (without SE) the project GEMM on the band's depthwise output straight into the block's
/// output. The expanded activation, the largest tensor of the block (4.8 MB at EfficientNet-B0's 112² stage), never
/// goes to memory: the layer-by-layer order wrote it and read it back once per op. Without an expansion (and
/// without SE) the depthwise kernel reads the block's input directly and only its output stays in L2.
///
/// Rows the next band shares with this one (the depthwise kernel's vertical overlap) stay in the buffer and are
/// not recomputed; only the first band of each worker's run recomputes its overlap. With SE the project needs the
/// global average of the whole depthwise output first, so the pipeline stops after the depthwise kernel (its
/// per-row channel sums go to `seRowSums`, reduced in row order by the caller as `Depthwise.run` does).
final class MBConvPipeline {
    let expand: PackedWeights?
    let dw: DepthwiseWeights
    let geometry: NHWCConvGeometry
    let input: UnsafePointer<Float>
    let activation: KernelActivation
    /// Depthwise output rows per band.
    let bandRows: Int
    /// Expanded input rows the buffer holds (≥ the rows of one band).
    let capacityRows: Int
    let scratch: UnsafeMutablePointer<Float>
    let scratchStride: Int
    /// Without SE: the project GEMM, its output and the residual (`residualStride` floats per pixel).
    let project: PackedWeights?
    let output: UnsafeMutablePointer<Float>
    let residual: UnsafePointer<Float>?
    let residualStride: Int
    /// With SE: the whole depthwise output and its per-row channel sums (batch × outHeight × paddedChannels).
    let seRowSums: UnsafeMutablePointer<Float>?

    /// Floats of expanded rows one worker's buffer aims at (512 KB: a quarter of a 2 MB L2, leaving room for
    /// the band's depthwise output and the streamed weights).
    static let bufferBudget = 128 * 1024

    /// Whether the block should run depth-first: an expansion, a depthwise kernel the band arithmetic covers
    /// (no dilation), an expanded tensor too large to stay in L2 between ops (1 MB), at least two bands per
    /// worker so that splitting rows over workers loses nothing, and few expanded rows computed twice.
    ///
    /// Each chunk `run` hands to a worker starts with an empty buffer, so every chunk boundary inside an image
    /// expands the depthwise window's overlap (kernel height − stride rows) again. With two threads (four chunks)
    /// on EfficientNetV2-S's 24-row stages that is 6 extra rows of 24, and layer by layer took 12–16% less time
    /// (Zen 3); on the 112- and 56-row 3×3 stages of EfficientNet-B0 and Lite0 it is 3–11% and depth-first wins or
    /// ties, while their 56-row 5×5 stride-2 blocks (16%) were faster layer by layer. So the recomputed rows must
    /// stay within 1/8 of the expanded rows (`recomputedFraction`).
    static func applies(geometry g: NHWCConvGeometry, expanded: Bool, threads: Int) -> Bool {
        let large = expanded ? g.inHeight * g.inWidth * g.inChannels : g.outHeight * g.outWidth * g.inChannels
        return g.dilationH == 1 && g.dilationW == 1 && large >= 256 * 1024
            && g.batch * g.outHeight >= 2 * max(1, threads) * plan(g).bandRows
            && (!expanded || recomputedFraction(g, threads: threads) <= 1.0 / 8)
    }

    /// The share of expanded rows `run` computes twice with `threads` workers: `parallelFor`'s chunks minus one
    /// boundaries, each recomputing kernel height − stride input rows, over all input rows.
    static func recomputedFraction(_ g: NHWCConvGeometry, threads: Int) -> Double {
        let chunks = WorkerPool.chunkCount(g.batch * g.outHeight, threads: threads)
        let overlap = max(0, g.kernelHeight - g.strideH)
        return Double((chunks - 1) * overlap) / Double(max(1, g.batch * g.inHeight))
    }

    /// Band rows and buffer rows for `g` under `bufferBudget`.
    static func plan(_ g: NHWCConvGeometry) -> (bandRows: Int, capacityRows: Int) {
        let rowFloats = max(1, g.inWidth * g.inChannels)
        let budgetRows = max(g.kernelHeight + g.strideH, bufferBudget / rowFloats)
        // A band needs (bandRows − 1)·stride + kh rows; half the buffer per band leaves room to append the next
        // band's rows without moving the overlap on every band.
        let band = max(1, min(g.outHeight, (budgetRows / 2 - g.kernelHeight) / g.strideH + 1))
        return (band, max(budgetRows, (band - 1) * g.strideH + g.kernelHeight))
    }

    /// Floats of scratch one worker needs (a multiple of 16 plus a vector of slack for the kernels' over-reads).
    static func scratchFloats(_ g: NHWCConvGeometry, expanded: Bool, projected: Bool) -> Int {
        let (band, capacity) = plan(g)
        let expanded = expanded ? capacity * g.inWidth * g.inChannels : 0
        let dwBand = projected ? band * g.outWidth * g.inChannels : 0
        return (expanded + 16 + dwBand + 16 + 15) / 16 * 16
    }

    /// `geometry` is the depthwise conv's (its in/out channels = the expanded channels); `input` the block's input
    /// (NHWC, `expand.inputChannels` floats per pixel, or the depthwise's input without `expand`); `scratch` `threads × scratchFloats`. Either `project` (no
    /// SE: `output` is the block's output) or `seRowSums` (SE: `output` is the whole depthwise output).
    init(
        expand: PackedWeights?, dw: DepthwiseWeights, geometry: NHWCConvGeometry, input: UnsafePointer<Float>,
        activation: KernelActivation, project: PackedWeights?, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, residualStride: Int, seRowSums: UnsafeMutablePointer<Float>?,
        scratch: UnsafeMutablePointer<Float>
    ) {
        precondition((project == nil) != (seRowSums == nil), "MBConvPipeline: project or SE sums, not both")
        precondition(expand != nil || project != nil, "MBConvPipeline: nothing to keep in L2")
        self.expand = expand
        self.dw = dw
        self.geometry = geometry
        self.input = input
        self.activation = activation
        self.project = project
        self.output = output
        self.residual = residual
        self.residualStride = residualStride
        self.seRowSums = seRowSums
        (bandRows, capacityRows) = Self.plan(geometry)
        self.scratch = scratch
        scratchStride = Self.scratchFloats(geometry, expanded: expand != nil, projected: project != nil)
    }

    func run(_ pool: WorkerPool) {
        let g = geometry
        if let seRowSums { seRowSums.update(repeating: 0, count: g.batch * g.outHeight * dw.paddedChannels) }
        pool.parallelFor(g.batch * g.outHeight) { rows, worker in
            var row = rows.lowerBound
            while row < rows.upperBound {
                // One image at a time: the buffer holds rows of one image.
                let n = row / g.outHeight
                let end = min(rows.upperBound, (n + 1) * g.outHeight)
                self.runRows(image: n, rows: (row - n * g.outHeight)..<(end - n * g.outHeight), worker: worker)
                row = end
            }
        }
    }

    /// Output rows `rows` (within image `n`) on the calling thread.
    private func runRows(image n: Int, rows: Range<Int>, worker: Int) {
        let g = geometry
        let c = g.inChannels
        let rowFloats = g.inWidth * c
        let buffer = scratch + worker * scratchStride
        let dwBand = expand == nil ? buffer : buffer + capacityRows * rowFloats + 16
        let kernels = KernelDispatch.table
        // The buffer holds expanded rows bufferLow ..< bufferHigh of image n, row bufferLow first.
        var bufferLow = 0
        var bufferHigh = 0
        var oy = rows.lowerBound
        while oy < rows.upperBound {
            let bandEnd = min(rows.upperBound, oy + bandRows)
            let low = max(0, oy * g.strideH - g.padTop)
            let high = min(g.inHeight, (bandEnd - 1) * g.strideH - g.padTop + g.kernelHeight)
            if expand == nil {
                // The depthwise kernel reads the block's input in place.
                (bufferLow, bufferHigh) = (0, 0)
            } else if low >= bufferHigh || low < bufferLow {
                bufferLow = low
                bufferHigh = low
            } else if high - bufferLow > capacityRows {
                // Keep the overlap: move rows low ..< bufferHigh to the front.
                let kept = bufferHigh - low
                if kept > 0 {
                    memmove(buffer, buffer + (low - bufferLow) * rowFloats, kept * rowFloats * MemoryLayout<Float>.stride)
                }
                bufferLow = low
            }
            if let expand, high > bufferHigh {
                let cin = expand.inputChannels
                GEMM.compute(
                    GEMM.Problem(
                        rows: .direct(base: input + (n * g.inHeight + bufferHigh) * g.inWidth * cin, stride: cin),
                        m: (high - bufferHigh) * g.inWidth, weights: expand,
                        c: buffer + (bufferHigh - bufferLow) * rowFloats, ldc: c, activation: activation))
                bufferHigh = high
            }
            // The depthwise kernel addresses image n's row iy at input + (n·inHeight + iy)·rowFloats: shift the
            // buffer so that row bufferLow lands there (only rows low ..< high are read).
            let virtualInput =
                expand == nil ? input : UnsafePointer(buffer) - (n * g.inHeight + bufferLow) * rowFloats
            let globalRows = (n * g.outHeight + oy)..<(n * g.outHeight + bandEnd)
            if let project {
                let outFloats = g.outWidth * c
                let virtualOutput = dwBand - globalRows.lowerBound * outFloats
                kernels.depthwise(virtualInput, g, dw, virtualOutput, activation, nil, false, globalRows)
                let firstPixel = globalRows.lowerBound * g.outWidth
                GEMM.compute(
                    GEMM.Problem(
                        rows: .direct(base: dwBand, stride: c), m: (bandEnd - oy) * g.outWidth, weights: project,
                        c: output + firstPixel * project.outputs, ldc: project.outputs,
                        residual: residual.map { $0 + firstPixel * residualStride }, ldr: residualStride))
            } else {
                kernels.depthwise(virtualInput, g, dw, output, activation, seRowSums, true, globalRows)
            }
            oy = bandEnd
        }
    }
}
