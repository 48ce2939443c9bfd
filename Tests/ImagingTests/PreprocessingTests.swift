import IR
import Testing

@testable import Imaging

/// Full eval transforms against torchvision / timm on real photos.
///
/// Tolerance: max |Δ| = 0 on the float tensor. The pixels before normalization are bit-exact (decode and resize
/// are), and `(v / 255 − mean) / std` is evaluated in float32 in torchvision's order, so even the floats are
/// required to be identical. (Were a pixel off by one, the error would be 1/255/std ≈ 0.0175 for ImageNet std.)
@Suite struct PreprocessingTests {
    @Test(arguments: Fixtures.manifest.transforms)
    func transformMatchesFramework(entry: Fixtures.TransformEntry) throws {
        var p = try Preprocessing.preset(name: entry.preset, size: entry.size)
        // The preset must already be what the framework ran, except crop_pct where the model config differs
        // (timm's efficientnetv2_rw_s uses 1.0): that is the `--crop-pct` override.
        p.cropPct = entry.crop_pct
        #expect(p.resizeSize == entry.resize_size)
        #expect(p.interpolation.rawValue == entry.interpolation)
        #expect(p.mean == entry.mean && p.std == entry.std)
        #expect(p.layout.rawValue == entry.layout && p.range.rawValue == entry.range)

        let image = try RGBImage(contentsOf: Fixtures.path(entry.image))
        let tensor = p.tensor(from: [image])
        #expect(tensor.shape == [1] + entry.shape)
        let expected = try Fixtures.floats(entry.expected)
        let actual = tensor.floats
        #expect(actual.count == expected.count)
        var worst: Float = 0
        for i in 0..<min(actual.count, expected.count) { worst = max(worst, abs(actual[i] - expected[i])) }
        #expect(worst == 0, "\(entry.name): max |Δ| = \(worst)")
    }

    @Test func presetsAreTheDocumentedTransforms() throws {
        let tv = try Preprocessing.preset(name: "torchvision", size: 384)
        #expect(tv.resizeSize == 384 && tv.interpolation == .bilinear && tv.mean == Preprocessing.imagenetMean)
        let timm = try Preprocessing.preset(name: "timm", size: 224)
        #expect(timm.resizeSize == 256 && timm.interpolation == .bicubic && timm.std == Preprocessing.imagenetStd)
        #expect(try Preprocessing.preset(name: "timm", size: 384).resizeSize == 438)  // floor(438.857…)
        let tf = try Preprocessing.preset(name: "timm-tf", size: 300)
        #expect(tf.resizeSize == 300 && tf.mean == [0.5, 0.5, 0.5] && tf.std == [0.5, 0.5, 0.5])
        let keras = try Preprocessing.preset(name: "keras", size: 480)
        #expect(keras.layout == .nhwc && keras.range == .byte && keras.resizeSize == 480)
        #expect(throws: PreprocessingError.unknownPreset("pytorch")) {
            try Preprocessing.preset(name: "pytorch", size: 224)
        }
        #expect(throws: PreprocessingError.invalidSize(0)) { try Preprocessing.preset(name: "timm", size: 0) }
    }

    @Test func validateRejectsBadOverrides() throws {
        var p = try Preprocessing.preset(name: "torchvision", size: 32)
        try p.validate()
        p.std = [1, 0, 1]
        #expect(throws: PreprocessingError.self) { try p.validate() }
        p.std = [1, 1, 1]
        p.cropPct = 0
        #expect(throws: PreprocessingError.self) { try p.validate() }
        #expect(try Preprocessing.parseChannels("0.5, 0.25,1", option: "--mean") == [0.5, 0.25, 1])
        #expect(throws: PreprocessingError.unparsableChannels(option: "--std", text: "1,2")) {
            try Preprocessing.parseChannels("1,2", option: "--std")
        }
        #expect(throws: PreprocessingError.self) { try Preprocessing.parseChannels("a,b,c", option: "--std") }
    }

    @Test func shorterSideAndCenterCropRoundLikeTorchvision() {
        // int(S * long / short), truncated.
        #expect(RGBImage.size(width: 451, height: 300, shorterSide: 66) == (99, 66))
        #expect(RGBImage.size(width: 512, height: 600, shorterSide: 72) == (72, 84))
        #expect(RGBImage.size(width: 100, height: 100, shorterSide: 7) == (7, 7))
        // round((size − crop) / 2) with round-half-to-even: 16.5 → 16, 17.5 → 18, 0.5 → 0.
        #expect(RGBImage.centerCropOrigin(size: 99, crop: 66) == 16)
        #expect(RGBImage.centerCropOrigin(size: 101, crop: 66) == 18)
        #expect(RGBImage.centerCropOrigin(size: 5, crop: 4) == 0)
        #expect(RGBImage.centerCropOrigin(size: 7, crop: 4) == 2)
        // Crop larger than the image: padded by (crop − size) // 2 before.
        #expect(RGBImage.centerCropOrigin(size: 5, crop: 8) == -1)
        #expect(RGBImage.centerCropOrigin(size: 5, crop: 9) == -2)
    }

    @Test func layoutsHoldTheSameValues() throws {
        let image = randomImage(width: 40, height: 30, seed: 5)
        let p = try Preprocessing.preset(name: "timm", size: 16)
        let nchw = p.tensor(from: [image, image], layout: .nchw).floats
        let nhwc = p.tensor(from: [image, image], layout: .nhwc).floats
        #expect(p.tensor(from: [image, image], layout: .nhwc).shape == [2, 16, 16, 3])
        for n in 0..<2 {
            for c in 0..<3 {
                for i in 0..<256 {
                    #expect(nchw[n * 768 + c * 256 + i] == nhwc[n * 768 + i * 3 + c])
                }
            }
        }
        // Each value is (v / 255 − mean) / std of the prepared pixel.
        let pixels = p.prepare(image).pixels
        #expect(nchw[256 + 5] == (Float(pixels[5 * 3 + 1]) / 255 - 0.456) / 0.224)
    }

    @Test func kerasValuesAreRawPixels() throws {
        let image = randomImage(width: 20, height: 24, seed: 6)
        let p = try Preprocessing.preset(name: "keras", size: 20)
        let t = p.tensor(from: [image])
        #expect(t.shape == [1, 20, 20, 3])
        #expect(t.floats == p.prepare(image).pixels.map { Float($0) })
    }

    @Test func cropLargerThanResizedImageIsZeroPadded() throws {
        // crop_pct > 1 (timm allows it): resize to floor(16 / 1.6) = 10, then center-crop 16 pads 3 on each side.
        var p = try Preprocessing.preset(name: "timm", size: 16)
        p.cropPct = 1.6
        let image = RGBImage(width: 10, height: 10, red: 200, green: 100, blue: 50)
        let prepared = p.prepare(image)
        #expect(prepared.width == 16 && prepared.height == 16)
        #expect(prepared[0, 0] == (0, 0, 0) && prepared[2, 2] == (0, 0, 0))
        #expect(prepared[3, 3] == (200, 100, 50) && prepared[12, 12] == (200, 100, 50) && prepared[13, 13] == (0, 0, 0))
    }
}
