import OpCore

/// A 2-D convolution over a channels-last (NHWC) batch, as the kernels see it: explicit pads (possibly asymmetric,
/// TF "SAME" puts the extra row/column at the end), and the output size from OpCore's `ConvArithmetic`, computed
/// once here. The plan makes it from the IR's `ConvGeometry` (which resolved the node's attributes and `auto_pad`).
package struct NHWCConvGeometry: Hashable, Sendable {
    package let batch: Int
    package let inHeight: Int
    package let inWidth: Int
    package let inChannels: Int
    package let outChannels: Int
    package let kernelHeight: Int
    package let kernelWidth: Int
    package let strideH: Int
    package let strideW: Int
    package let padTop: Int
    package let padLeft: Int
    package let padBottom: Int
    package let padRight: Int
    package let dilationH: Int
    package let dilationW: Int

    package init(
        batch: Int, inHeight: Int, inWidth: Int, inChannels: Int, outChannels: Int, kernel: (Int, Int),
        stride: (Int, Int) = (1, 1), pads: [Int] = [0, 0, 0, 0], dilation: (Int, Int) = (1, 1)
    ) {
        self.batch = batch
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.inChannels = inChannels
        self.outChannels = outChannels
        (kernelHeight, kernelWidth) = kernel
        (strideH, strideW) = stride
        (padTop, padLeft, padBottom, padRight) = (pads[0], pads[1], pads[2], pads[3])
        (dilationH, dilationW) = dilation
        // 0 when the window does not fit (or overflows): the plan has checked the geometry with the IR before.
        outHeight =
            (try? ConvArithmetic.outputSize(
                input: inHeight, kernel: kernelHeight, stride: strideH, dilation: dilationH, padBegin: padTop,
                padEnd: padBottom)) ?? 0
        outWidth =
            (try? ConvArithmetic.outputSize(
                input: inWidth, kernel: kernelWidth, stride: strideW, dilation: dilationW, padBegin: padLeft,
                padEnd: padRight)) ?? 0
    }

    package let outHeight: Int
    package let outWidth: Int
    package var taps: Int { kernelHeight * kernelWidth }
    /// Output pixels over the whole batch: the GEMM's M.
    package var outPixels: Int { batch * outHeight * outWidth }
    package var inPixels: Int { batch * inHeight * inWidth }
    /// Multiply-accumulates of the dense convolution.
    package var macs: Int { outPixels * outChannels * taps * inChannels }
    /// True for a 1×1, stride 1, unpadded convolution: a plain GEMM over the pixels.
    package var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideH == 1 && strideW == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
}

/// Which Winograd minimal filtering a 3×3 stride-1 convolution runs: F(2×2, 3×3) (4×4 input tiles, 16 transform
/// positions, 2.25× fewer multiplies than direct) or F(4×4, 3×3) (6×6 input tiles, 36 positions, 4×). The planner
/// picks one per layer (`WinogradConv.variant(for:)` in the Runtime).
package enum WinogradVariant: Int, Sendable, CaseIterable, CustomStringConvertible {
    case f2x2 = 2
    case f4x4 = 4

    /// Output tile side m.
    @inlinable package var tile: Int { rawValue }
    /// Input tile side m + 2.
    @inlinable package var alpha: Int { rawValue + 2 }
    /// Transform positions (alpha²): the number of GEMMs.
    @inlinable package var positions: Int { (rawValue + 2) * (rawValue + 2) }

    package var description: String { "F(\(tile)x\(tile),3x3)" }
}

/// One Winograd convolution as its transforms see it: m×m output tiles (m = `variant.tile`) numbered over batch ×
/// tilesH × tilesW, transformed inputs and GEMM products `vStride` / `mStride` floats apart per transform position.
package struct WinogradTiles {
    package var variant: WinogradVariant
    package var geometry: NHWCConvGeometry
    package var input: UnsafePointer<Float>
    /// The bias padded to 16.
    package var bias: UnsafePointer<Float>
    package var tilesH: Int
    package var tilesW: Int
    package var vStride: Int
    package var mStride: Int

    package init(
        variant: WinogradVariant, geometry: NHWCConvGeometry, input: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        tilesH: Int, tilesW: Int, vStride: Int, mStride: Int
    ) {
        self.variant = variant
        self.geometry = geometry
        self.input = input
        self.bias = bias
        self.tilesH = tilesH
        self.tilesW = tilesW
        self.vStride = vStride
        self.mStride = mStride
    }

    /// The output pixel (index over batch × outHeight × outWidth) of position k of tile `tile`, or nil past the edge.
    @inlinable @inline(__always)
    package func pixel(tile: Int, k: Int) -> Int? {
        let perImage = tilesH * tilesW
        let n = tile / perImage
        let ty = (tile % perImage) / tilesW
        let tx = tile % tilesW
        let m = variant.tile
        let y = m * ty + k / m
        let x = m * tx + k % m
        if y >= geometry.outHeight || x >= geometry.outWidth { return nil }
        return (n * geometry.outHeight + y) * geometry.outWidth + x
    }
}

/// Where the Winograd output transform reads its GEMM products (one matrix per transform position) and writes tiles `first ..< first + count`.
package struct WinogradOutput {
    package var first: Int
    package var count: Int
    package var products: UnsafeMutablePointer<Float>
    package var output: UnsafeMutablePointer<Float>
    package var outputStride: Int
    package var residual: UnsafePointer<Float>?
    package var residualStride: Int
    package var channels: Range<Int>
    /// Rows in tile order (row i·m² + k is pixel k, row-major in the m×m tile, of tile first + i) instead of image
    /// order.
    package var tileOrder: Bool

    package init(
        first: Int, count: Int, products: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
        outputStride: Int, residual: UnsafePointer<Float>?, residualStride: Int, channels: Range<Int>, tileOrder: Bool
    ) {
        self.first = first
        self.count = count
        self.products = products
        self.output = output
        self.outputStride = outputStride
        self.residual = residual
        self.residualStride = residualStride
        self.channels = channels
        self.tileOrder = tileOrder
    }
}
