import Formats
import Foundation
import IR
import Models
import Testing

/// At small widths the B-series and S tables round to the same channels; the weights cannot tell which was meant,
/// so detection names the other table instead of hiding it, and `--arch` (here `architecture:`) settles it.
@Suite struct AmbiguityTests {
    static let checkpoint = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/models/keras_efficientnetv2_b0/checkpoint.npz")

    @Test func reducedKerasB0NamesBothTables() throws {
        let tensors = try NPZ.read(contentsOf: Self.checkpoint.path).map { ($0.name, $0.tensor) }
        let detected = try ArchitectureDetector.detect(Checkpoint(tensors: tensors))
        #expect(detected.match == .custom)
        let names = Set([detected.architecture.name] + detected.alternatives)
        #expect(names.contains("EfficientNetV2B0") && names.contains("EfficientNetV2S"), "\(detected.summary)")
        #expect(detected.summary.contains("also fits"))

        let chosen = try ArchitectureDetector.detect(
            Checkpoint(tensors: tensors), architecture: try Architecture.resolve("EfficientNetV2B0"))
        #expect(chosen.architecture.name == "EfficientNetV2B0")
    }
}
