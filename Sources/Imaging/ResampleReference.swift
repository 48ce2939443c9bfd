/// PIL's two-pass 8-bit resize written as plainly as possible: the scalar reference that the fast resampler
/// (`Resampler`) is tested against, bit for bit, at awkward sizes.
///
/// As Pillow 13's `ImagingResampleInner`: a pass is skipped when its size does not change; the horizontal pass
/// runs first (over just the source rows the vertical taps read) unless `Resampler.verticalFirst` says the height
/// shrinks by more than twice as many pixels as the width. Each pass rounds to uint8.
enum ResampleReference {
    static func resize(_ image: RGBImage, width: Int, height: Int, interpolation: Interpolation) -> RGBImage {
        let horizontal = ResampleCoefficients(inSize: image.width, outSize: width, interpolation: interpolation)
        let vertical = ResampleCoefficients(inSize: image.height, outSize: height, interpolation: interpolation)
        let needHorizontal = width != image.width
        let needVertical = height != image.height
        if Resampler.verticalFirst(from: (image.width, image.height), to: (width, height)) {
            let temp = needVertical ? verticalPass(image, vertical, rowOffset: 0) : image
            return needHorizontal ? horizontalPass(temp, horizontal, rows: 0..<height) : temp
        }
        let firstRow = vertical.starts[0]
        let endRow = vertical.starts[height - 1] + vertical.counts[height - 1]
        let temp = needHorizontal ? horizontalPass(image, horizontal, rows: firstRow..<endRow) : image
        return needVertical ? verticalPass(temp, vertical, rowOffset: needHorizontal ? firstRow : 0) : temp
    }

    /// Output row r is source row `rows.lowerBound + r` filtered along x.
    static func horizontalPass(_ image: RGBImage, _ c: ResampleCoefficients, rows: Range<Int>) -> RGBImage {
        let width = c.starts.count
        var out = [UInt8](repeating: 0, count: width * rows.count * 3)
        for (r, y) in rows.enumerated() {
            for x in 0..<width {
                for ch in 0..<3 {
                    var sum = ResampleCoefficients.half
                    for t in 0..<c.counts[x] {
                        let pixel = Int32(image.pixels[(y * image.width + c.starts[x] + t) * 3 + ch])
                        sum += pixel * c.weights[x * c.kernelSize + t]
                    }
                    out[(r * width + x) * 3 + ch] = ResampleCoefficients.clip8(sum)
                }
            }
        }
        return RGBImage(width: width, height: rows.count, pixels: out)
    }

    /// Output row y filters source rows `c.starts[y] − rowOffset …` of `image` along y.
    static func verticalPass(_ image: RGBImage, _ c: ResampleCoefficients, rowOffset: Int) -> RGBImage {
        let height = c.starts.count
        var out = [UInt8](repeating: 0, count: image.width * height * 3)
        for y in 0..<height {
            for x in 0..<image.width {
                for ch in 0..<3 {
                    var sum = ResampleCoefficients.half
                    for t in 0..<c.counts[y] {
                        let row = c.starts[y] - rowOffset + t
                        sum += Int32(image.pixels[(row * image.width + x) * 3 + ch]) * c.weights[y * c.kernelSize + t]
                    }
                    out[(y * image.width + x) * 3 + ch] = ResampleCoefficients.clip8(sum)
                }
            }
        }
        return RGBImage(width: image.width, height: height, pixels: out)
    }
}
