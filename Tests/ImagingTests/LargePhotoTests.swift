import Foundation
import Testing

@testable import Imaging

/// Decode + resize + crop + normalize of a 1600x1200 (1.9 MP) JPEG, once per preset: the path `run` takes for a
/// camera-sized photo. Its speed (under 50 ms in a release build) is measured by
/// `swift build -c release --product effnet-kernel-bench && .build/release/effnet-kernel-bench preprocess`,
/// not here: timings of a debug build mean nothing.
@Suite struct LargePhotoTests {
    @Test(arguments: ["timm", "torchvision"])
    func decodeAndPrepareALargePhoto(preset: String) throws {
        let bytes = try Fixtures.bytes("hopper_large.jpg")
        let p = try Preprocessing.preset(name: preset, size: 384)
        let image = try RGBImage(decoding: bytes)
        #expect(image.width == 1600 && image.height == 1200)
        let tensor = p.tensor(from: [image])
        #expect(tensor.shape == [1, 3, 384, 384])
        // ImageNet mean/std normalization of 0…255 pixels keeps every value within about ±2.7.
        let values = tensor.floats
        #expect(values.allSatisfy { $0.isFinite && abs($0) < 3 })
        #expect(Set(values.prefix(1000)).count > 10, "a photo is not a flat image")
    }
}
