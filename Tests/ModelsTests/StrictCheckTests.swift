import IR
import Models
import Testing

/// Like PyTorch's strict `load_state_dict`, a damaged checkpoint is reported in one error listing every missing,
/// unexpected and wrongly shaped tensor, and the damage does not change the inferred network.
@Suite struct StrictCheckTests {
    func damaged(_ fixture: LayoutFixture, remove: Set<String>, reshape: [String: [Int]], add: [String: [Int]] = [:])
        -> Checkpoint
    {
        var tensors = fixture.zeroCheckpoint().entries.filter { !remove.contains($0.0) }
        for (i, (name, _)) in tensors.enumerated() {
            if let shape = reshape[name] { tensors[i].1 = Tensor.zeros(.float32, shape: shape) }
        }
        for (name, shape) in add.sorted(by: { $0.key < $1.key }) {
            tensors.append((name, Tensor.zeros(.float32, shape: shape)))
        }
        return Checkpoint(tensors: tensors)
    }

    @Test func timmMissingAndReshapedInOneError() throws {
        let fixture = LayoutFixture.named("tf_efficientnetv2_s-w0.5-d0.34")
        let shape = try #require(fixture.tensors.first { $0.name == "blocks.4.0.bn2.running_var" }?.shape)
        let checkpoint = damaged(
            fixture, remove: ["blocks.3.1.conv_dw.weight"], reshape: ["blocks.4.0.bn2.running_var": [shape[0] + 1]])
        #expect(
            throws: CheckpointError.mismatch(
                architecture: "tf_efficientnetv2_s", missing: ["blocks.3.1.conv_dw.weight"], unexpected: [],
                wrongShape: [.init(name: "blocks.4.0.bn2.running_var", expected: shape, actual: [shape[0] + 1])])
        ) { try GraphBuilder.build(checkpoint) }
    }

    @Test func kerasMissingUnexpectedAndReshapedInOneError() throws {
        let fixture = LayoutFixture.named("EfficientNetV2B0-w0.5-d0.5")
        let kernel = try #require(fixture.tensors.first { $0.name == "block4a_expand_conv/kernel" }?.shape)
        let checkpoint = damaged(
            fixture, remove: ["block6b_se_expand/bias", "top_bn/gamma"],
            reshape: ["block4a_expand_conv/kernel": [1, 1, kernel[2], kernel[3] - 8]],
            add: ["block6b_extra/kernel": [3, 3]])
        let error = #expect(throws: CheckpointError.self) { try ArchitectureDetector.detect(checkpoint) }
        guard case .mismatch(_, let missing, let unexpected, let wrong) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(missing == ["block6b_se_expand/bias", "top_bn/gamma"])
        #expect(unexpected == ["block6b_extra/kernel"])
        #expect(wrong.map(\.name) == ["block4a_expand_conv/kernel"])
        #expect(wrong.first?.expected == kernel)
        // One line naming all of them.
        let text = String(describing: error!)
        #expect(!text.contains("\n"))
        for name in ["block6b_se_expand/bias", "top_bn/gamma", "block6b_extra/kernel", "block4a_expand_conv/kernel"] {
            #expect(text.contains(name))
        }
    }

    /// A whole block missing from the middle of a stage: every tensor of it is reported.
    @Test func missingBlockIsReportedTensorByTensor() throws {
        let fixture = LayoutFixture.named("efficientnet_v2_s-w0.5-d0.5")
        let gone = Set(fixture.tensors.map(\.name).filter { $0.hasPrefix("features.5.2.") })
        let error = #expect(throws: CheckpointError.self) {
            try ArchitectureDetector.detect(damaged(fixture, remove: gone, reshape: [:]))
        }
        guard case .mismatch(_, let missing, let unexpected, let wrong) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        // num_batches_tracked counters are optional, everything else must be named.
        #expect(Set(missing) == gone.filter { !$0.hasSuffix("num_batches_tracked") })
        #expect(unexpected.isEmpty && wrong.isEmpty)
    }

    /// Keras `model.variables` adds int seed states of the dropout layers; they are not weights.
    @Test func kerasSeedStatesAreIgnored() throws {
        let fixture = LayoutFixture.named("EfficientNetV2B0-w0.5-d0.5")
        let tensors =
            fixture.zeroCheckpoint().entries + [
                ("seed_generator/seed_generator_state", Tensor(shape: [2], int64s: [1, 0])),
                ("seed_generator_1/seed_generator_state", Tensor(shape: [2], int64s: [1, 0])),
            ]
        let (graph, detected) = try GraphBuilder.build(Checkpoint(tensors: tensors))
        #expect(detected.architecture.name == "EfficientNetV2B0")
        #expect(graph.initializers.keys.allSatisfy { !$0.contains("seed") })
    }

    @Test func implausibleIndicesAreUnexpectedNames() throws {
        let fixture = LayoutFixture.named("tf_efficientnetv2_b0-w0.25-d0.5")
        let tensors =
            fixture.zeroCheckpoint().entries + [
                ("blocks.-1.0.conv.weight", Tensor.zeros(.float32, shape: [1])),
                ("blocks.99999999.0.conv.weight", Tensor.zeros(.float32, shape: [1])),
            ]
        #expect(
            throws: CheckpointError.mismatch(
                architecture: "tf_efficientnetv2_b0", missing: [],
                unexpected: ["blocks.-1.0.conv.weight", "blocks.99999999.0.conv.weight"], wrongShape: [])
        ) {
            try ArchitectureDetector.detect(Checkpoint(tensors: tensors))
        }
    }

    @Test func countersAreOptional() throws {
        let fixture = LayoutFixture.named("efficientnet_v2_s-w0.5-d0.5")
        let tensors = fixture.zeroCheckpoint().entries.filter { !$0.0.hasSuffix("num_batches_tracked") }
        #expect(try ArchitectureDetector.detect(Checkpoint(tensors: tensors)).architecture.name == "efficientnet_v2_s")
    }
}
