import Testing

@testable import Imaging

/// Resizing: the fast resampler against the scalar reference (bit-exact, random images at awkward sizes) and
/// both against PIL's `Image.resize` (bit-exact: tolerance 0 — same fixed-point arithmetic, same rounding).
@Suite struct ResampleTests {
    @Test(arguments: Fixtures.manifest.resize)
    func resizeMatchesPIL(entry: Fixtures.ResizeEntry) throws {
        let source = RGBImage(
            width: entry.source_width, height: entry.source_height, pixels: try Fixtures.bytes(entry.source))
        let interpolation = try #require(Interpolation(rawValue: entry.interpolation))
        let expected = try Fixtures.bytes(entry.expected)
        let fast = source.resized(width: entry.width, height: entry.height, interpolation: interpolation)
        #expect(maxAbsDifference(fast.pixels, expected) == 0)
        let reference = ResampleReference.resize(
            source, width: entry.width, height: entry.height, interpolation: interpolation)
        #expect(maxAbsDifference(reference.pixels, expected) == 0)
    }

    static let awkward = [1, 3, 15, 16, 17, 33]

    /// Tolerance 0: integer sums are exact, so the SIMD grouping of taps cannot change a single value.
    @Test(arguments: Interpolation.allCases)
    func fastMatchesReferenceAtAwkwardSizes(interpolation: Interpolation) {
        for (i, (sw, sh)) in [(1, 1), (3, 17), (17, 3), (16, 16), (33, 15), (50, 37)].enumerated() {
            let image = randomImage(width: sw, height: sh, seed: UInt64(100 + i))
            for w in ResampleTests.awkward + [sw, 2 * sw + 1] {
                for h in [1, 16, 17, sh, 3 * sh] {
                    let fast = image.resized(width: w, height: h, interpolation: interpolation)
                    let reference = ResampleReference.resize(image, width: w, height: h, interpolation: interpolation)
                    #expect(fast.pixels == reference.pixels, "\(sw)x\(sh) → \(w)x\(h) \(interpolation)")
                }
            }
        }
    }

    /// A window of the output equals the same pixels cut from the full resize.
    @Test func windowEqualsCropOfFullResize() {
        let image = randomImage(width: 61, height: 47, seed: 9)
        for interpolation in Interpolation.allCases {
            for (w, h) in [(30, 20), (90, 70), (61, 20), (25, 47)] {
                let full = image.resized(width: w, height: h, interpolation: interpolation)
                for crop in [
                    (x: 0, y: 0, width: w, height: h), (x: 3, y: 5, width: 11, height: 7),
                    (x: w - 1, y: h - 1, width: 1, height: 1),
                ] {
                    let window = image.resized(width: w, height: h, interpolation: interpolation, croppingTo: crop)
                    #expect(window == full.cropped(x: crop.x, y: crop.y, width: crop.width, height: crop.height))
                }
                // A crop reaching past the image edge: zero padding, as torchvision pads.
                let padded = image.resized(
                    width: w, height: h, interpolation: interpolation,
                    croppingTo: (x: -2, y: -3, width: w + 5, height: h + 4))
                #expect(padded == full.cropped(x: -2, y: -3, width: w + 5, height: h + 4))
            }
        }
    }

    @Test func sameSizeIsIdentity() {
        let image = randomImage(width: 20, height: 13, seed: 4)
        #expect(image.resized(width: 20, height: 13, interpolation: .bicubic) == image)
        #expect(ResampleReference.resize(image, width: 20, height: 13, interpolation: .bicubic) == image)
    }

    @Test func constantImageStaysConstant() {
        // Weights are normalized to sum 1 (±rounding of 22-bit fixed point), so a flat image stays flat.
        let image = RGBImage(width: 37, height: 29, red: 255, green: 0, blue: 128)
        for interpolation in Interpolation.allCases {
            for (w, h) in [(5, 4), (100, 80), (37, 3)] {
                let out = image.resized(width: w, height: h, interpolation: interpolation)
                #expect(out == RGBImage(width: w, height: h, red: 255, green: 0, blue: 128))
            }
        }
    }

    @Test func coefficientsFollowPIL() {
        // Downscale 4 → 2 bilinear: support 2, taps centred at 1.0 and 3.0 → weights 1/4, 3/4 … normalized.
        let c = ResampleCoefficients(inSize: 4, outSize: 2, interpolation: .bilinear)
        #expect(c.kernelSize == 5)
        #expect(c.starts == [0, 1])
        #expect(c.counts == [3, 3])
        // x = 0: taps at source 0, 1, 2 → filter((j − 1 + 0.5)/2) = 0.75, 0.75, 0.25 → /1.75.
        let one = Double(1 << 22)
        #expect(c.weights[0] == Int32(0.5 + 0.75 / 1.75 * one))
        #expect(c.weights[2] == Int32(0.5 + 0.25 / 1.75 * one))
    }
}

@Suite struct PassOrderTests {
    /// Pillow 13 runs the vertical pass first when the height shrinks by more than twice as many pixels as the
    /// width; measured against Pillow 13.0.0 on 150 size pairs while writing this (see the 67x45 → 200x13 fixture).
    @Test func verticalFirstFollowsPillow13() {
        #expect(Resampler.verticalFirst(from: (67, 45), to: (200, 13)))
        #expect(Resampler.verticalFirst(from: (67, 45), to: (68, 44)))
        #expect(Resampler.verticalFirst(from: (30, 90), to: (15, 45)))
        #expect(!Resampler.verticalFirst(from: (90, 30), to: (45, 15)))
        #expect(!Resampler.verticalFirst(from: (40, 40), to: (20, 20)))
        #expect(!Resampler.verticalFirst(from: (67, 45), to: (33, 21)))
        #expect(!Resampler.verticalFirst(from: (30, 90), to: (31, 91)))
        // Shorter-side resizes: only images taller than about 2:1 go vertical first.
        #expect(Resampler.verticalFirst(from: (120, 300), to: (54, 135)))
        #expect(!Resampler.verticalFirst(from: (512, 600), to: (72, 84)))
    }
}
