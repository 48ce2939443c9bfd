import Foundation
import IR
import Testing

@testable import Formats

/// Keras HDF5 through libhdf5: the Keras 3 `.weights.h5`, the `.keras` archive, the legacy `model.save` `.h5`
/// (`/model_weights`) and the legacy root layout with split `layer_names0…`/`weight_names0…` attributes all read to
/// the same variables; damaged files fail with a `WeightFileError`.
@Suite struct KerasH5Tests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/formats/keras_efficientnetv2_b0").path + "/"

    static func read(_ name: String) throws -> [String: Tensor] {
        let path = dir + name
        let kind = try ModelFileKind.detect(path: path)
        let tensors = try WeightFile.read(contentsOf: path, kind: kind)
        return Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
    }

    @Test func everyLayoutReadsTheSameVariables() throws {
        #expect(try ModelFileKind.detect(path: Self.dir + "model.weights.h5") == .hdf5)
        #expect(try ModelFileKind.detect(path: Self.dir + "model.keras") == .keras)
        let keras3 = try Self.read("model.weights.h5")
        #expect(keras3["stem_conv/kernel"]?.shape.count == 4)
        #expect(keras3["stem_bn/moving_variance"] != nil)
        #expect(keras3.count > 50)
        for other in ["model.keras", "legacy.h5", "split.h5"] {
            let t = try Self.read(other)
            #expect(Set(t.keys) == Set(keras3.keys), "\(other): \(Set(t.keys).symmetricDifference(keras3.keys).sorted().prefix(4))")
            #expect(t == keras3, "\(other)")
        }
    }

    /// Truncated HDF5 files and a `.keras` archive without its weights member are refused, not crashed on.
    @Test func damagedFilesAreRefused() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.dir + "model.weights.h5"))
        let tmp = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        for n in [16, 2048, bytes.count / 2, bytes.count - 100] {
            let path = tmp.appendingPathComponent("cut\(n).h5").path
            try bytes.prefix(n).write(to: URL(fileURLWithPath: path))
            #expect(throws: WeightFileError.self) { try KerasH5.read(contentsOf: path) }
        }
        let archive = tmp.appendingPathComponent("empty.keras").path
        var zip = ZipWriter(sink: ZipMemorySink())
        let config = Array("{}".utf8)
        try zip.addMember(
            name: "config.json", method: Zip.methodStored, crc: ZipCRC32.update(0, config),
            uncompressedSize: config.count, pieces: [config])
        try zip.finish()
        try Data(zip.sink.bytes).write(to: URL(fileURLWithPath: archive))
        #expect(throws: WeightFileError.self) { try KerasH5.readArchive(contentsOf: archive) }
    }
}
