/// PIL-exact antialiased resize, fast: the same arithmetic as `ResampleReference` (bit-identical results) with
/// SIMD inner loops, computing only an output window so that resize-then-crop does no wasted work.
///
/// Each output pixel depends only on its own taps, so resampling just the pixels of a crop window gives exactly
/// the pixels PIL's full resize followed by the crop would give.
enum Resampler {
    /// Pillow 13's pass order: vertical first when the height shrinks by more than twice as many pixels as the
    /// width (`(inH − outH) > 0 && (inH − outH) > 2·(inW − outW)`), horizontal first otherwise. Each pass rounds
    /// to uint8, so the order changes results by ±1 here and there; Pillow ≤ 12 always ran horizontal first.
    static func verticalFirst(from source: (width: Int, height: Int), to target: (width: Int, height: Int)) -> Bool {
        let dy = source.height - target.height
        return dy > 0 && dy > (source.width - target.width) * 2
    }

    /// Pixels `window` of the image `image.resize((width, height))` would produce.
    static func resize(
        _ image: RGBImage, width: Int, height: Int, interpolation: Interpolation,
        window: (x: Int, y: Int, width: Int, height: Int)
    ) -> RGBImage {
        precondition(
            window.x >= 0 && window.y >= 0 && window.width > 0 && window.height > 0
                && window.x + window.width <= width && window.y + window.height <= height, "window outside the output")
        let xs = window.x..<(window.x + window.width)
        let ys = window.y..<(window.y + window.height)
        let horizontal =
            width == image.width
            ? nil
            : ResampleCoefficients(inSize: image.width, outSize: width, interpolation: interpolation, outputs: xs)
        let vertical =
            height == image.height
            ? nil
            : ResampleCoefficients(inSize: image.height, outSize: height, interpolation: interpolation, outputs: ys)

        if verticalFirst(from: (image.width, image.height), to: (width, height)) {
            // Vertical pass over just the source columns the window's horizontal taps read.
            let columns = horizontal?.sourceRange(of: xs) ?? xs
            let temp: RGBImage
            if let vertical {
                temp = verticalPass(image, columns: columns, rowOffset: 0, outRows: ys, coefficients: vertical)
            } else {
                temp = image.cropped(x: columns.lowerBound, y: ys.lowerBound, width: columns.count, height: ys.count)
            }
            guard let horizontal else { return temp }
            return horizontalPass(
                temp, rows: 0..<temp.height, columns: xs, columnOffset: columns.lowerBound, coefficients: horizontal)
        }
        // Horizontal pass over just the source rows the window's vertical taps read.
        let rows = vertical?.sourceRange(of: ys) ?? ys
        let temp: RGBImage
        if let horizontal {
            temp = horizontalPass(image, rows: rows, columns: xs, columnOffset: 0, coefficients: horizontal)
        } else {
            temp = image.cropped(x: xs.lowerBound, y: rows.lowerBound, width: xs.count, height: rows.count)
        }
        guard let vertical else { return temp }
        return verticalPass(
            temp, columns: 0..<temp.width, rowOffset: rows.lowerBound, outRows: ys, coefficients: vertical)
    }

    /// Output row r, column i: source row `rows.lowerBound + r` filtered along x for output column `columns[i]`,
    /// whose taps start at source column `starts[columns[i]] − columnOffset` of `image`.
    ///
    /// Four taps per 16-lane vector: 16 bytes loaded at the group's first pixel are shuffled to R G B 0 ×4 and
    /// widened to Int32, then multiplied by the weights of those four taps, each broadcast to its four lanes;
    /// taps are padded with zero weights to a multiple of four. Each row is copied to a scratch line with 16 bytes
    /// of zero slack so a group may read past the last pixel. Integer sums are exact, so the grouping does not
    /// change the result.
    private static func horizontalPass(
        _ image: RGBImage, rows: Range<Int>, columns: Range<Int>, columnOffset: Int,
        coefficients c: ResampleCoefficients
    ) -> RGBImage {
        let outWidth = columns.count
        var groupOffsets = [Int](repeating: 0, count: outWidth + 1)
        for (i, x) in columns.enumerated() { groupOffsets[i + 1] = groupOffsets[i] + (c.count(x) + 3) / 4 }
        // Lanes 4t…4t+3 of group g of output i hold the weight of tap 4g+t.
        var wide = [SIMD16<Int32>](repeating: .zero, count: groupOffsets[outWidth])
        for (i, x) in columns.enumerated() {
            for t in 0..<c.count(x) {
                let w = c.weights[c.weightOffset(x) + t]
                let g = groupOffsets[i] + t / 4
                for lane in 0..<4 { wide[g][(t % 4) * 4 + lane] = w }
            }
        }
        let starts = columns.map { (c.start($0) - columnOffset) * 3 }
        let lineBytes = image.width * 3
        var scratch = [UInt8](repeating: 0, count: lineBytes + 16)
        // One byte of slack: each pixel is stored as 4 bytes, the 4th overwritten by the next pixel.
        var out = [UInt8](repeating: 0, count: rows.count * outWidth * 3 + 1)
        let half = SIMD4<Int32>(repeating: ResampleCoefficients.half)
        image.pixels.withUnsafeBytes { src in
            wide.withUnsafeBufferPointer { weights in
                starts.withUnsafeBufferPointer { starts in
                    groupOffsets.withUnsafeBufferPointer { groupOffsets in
                        scratch.withUnsafeMutableBytes { line in
                            out.withUnsafeMutableBytes { dst in
                                for (r, y) in rows.enumerated() {
                                    line.baseAddress!.copyMemory(
                                        from: src.baseAddress! + y * lineBytes, byteCount: lineBytes)
                                    let outLine = dst.baseAddress! + r * outWidth * 3
                                    for i in 0..<outWidth {
                                        var acc = SIMD16<Int32>.zero
                                        var p = UnsafeRawPointer(line.baseAddress!) + starts[i]
                                        for g in groupOffsets[i]..<groupOffsets[i + 1] {
                                            let v = p.loadUnaligned(as: SIMD16<UInt8>.self)
                                            let rgbx = SIMD16<UInt8>(
                                                v[0], v[1], v[2], 0, v[3], v[4], v[5], 0, v[6], v[7], v[8], 0, v[9],
                                                v[10], v[11], 0)
                                            acc &+= SIMD16<Int32>(truncatingIfNeeded: rgbx) &* weights[g]
                                            p += 12
                                        }
                                        let pair = acc.lowHalf &+ acc.highHalf
                                        let sum =
                                            (pair.lowHalf &+ pair.highHalf &+ half)
                                            &>> Int32(ResampleCoefficients.precisionBits)
                                        let v = sum.clamped(lowerBound: .zero, upperBound: SIMD4(repeating: 255))
                                        let packed =
                                            UInt32(truncatingIfNeeded: v[0]) | UInt32(truncatingIfNeeded: v[1]) << 8
                                            | UInt32(truncatingIfNeeded: v[2]) << 16
                                        (outLine + 3 * i).storeBytes(of: packed, as: UInt32.self)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        out.removeLast()
        return RGBImage(width: outWidth, height: rows.count, pixels: out)
    }

    /// Output row r, column j: source column `columns.lowerBound + j` filtered along y for output row
    /// `outRows[r]`, whose taps start at row `starts[outRows[r]] − rowOffset` of `image`.
    ///
    /// Σ over taps of whole source rows × weight, 16 bytes at a time, accumulators kept in registers across taps.
    private static func verticalPass(
        _ image: RGBImage, columns: Range<Int>, rowOffset: Int, outRows: Range<Int>,
        coefficients c: ResampleCoefficients
    ) -> RGBImage {
        let stride = image.width * 3
        let rowBytes = columns.count * 3
        let columnByte = columns.lowerBound * 3
        var out = [UInt8](repeating: 0, count: outRows.count * rowBytes)
        let half = SIMD16<Int32>(repeating: ResampleCoefficients.half)
        image.pixels.withUnsafeBufferPointer { src in
            c.weights.withUnsafeBufferPointer { weights in
                out.withUnsafeMutableBufferPointer { dst in
                    let base = UnsafeRawPointer(src.baseAddress! + columnByte)
                    for (r, y) in outRows.enumerated() {
                        let first = c.start(y) - rowOffset
                        let n = c.count(y)
                        let k = weights.baseAddress! + c.weightOffset(y)
                        let outLine = dst.baseAddress! + r * rowBytes
                        var b = 0
                        while b + 16 <= rowBytes {
                            var acc = half
                            for t in 0..<n {
                                let v = base.loadUnaligned(
                                    fromByteOffset: (first + t) * stride + b, as: SIMD16<UInt8>.self)
                                acc &+= SIMD16<Int32>(truncatingIfNeeded: v) &* SIMD16(repeating: k[t])
                            }
                            let shifted = acc &>> Int32(ResampleCoefficients.precisionBits)
                            let clamped = shifted.clamped(lowerBound: .zero, upperBound: SIMD16(repeating: 255))
                            UnsafeMutableRawPointer(outLine + b).storeBytes(
                                of: SIMD16<UInt8>(truncatingIfNeeded: clamped), as: SIMD16<UInt8>.self)
                            b += 16
                        }
                        while b < rowBytes {
                            var sum = ResampleCoefficients.half
                            for t in 0..<n {
                                sum &+= Int32(src[(first + t) * stride + columnByte + b]) &* k[t]
                            }
                            outLine[b] = ResampleCoefficients.clip8(sum)
                            b += 1
                        }
                    }
                }
            }
        }
        return RGBImage(width: columns.count, height: outRows.count, pixels: out)
    }
}
