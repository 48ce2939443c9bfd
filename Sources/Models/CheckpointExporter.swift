import IR

/// A checkpoint ready to write: tensors in the framework's order, and what the reader should know.
public struct ExportedCheckpoint: Sendable {
    /// Names and tensors in the framework's state-dict order (`num_batches_tracked` as int64 zeros for PyTorch).
    public var tensors: [(String, Tensor)]
    public var scheme: NamingScheme
    public var structure: NetworkStructure
    /// Choices made (identity BatchNorm for folded convs, assumed epsilon, padding differences…).
    public var notes: [String]
}

/// Writes EfficientNetV2 weights under a framework's names and layouts, loadable by that framework's model
/// (`model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(path).items()}, strict=True)`).
public enum CheckpointExporter {
    /// The weights of `graph` (built by `GraphBuilder`, optimized, or exported by PyTorch) under `naming`.
    ///
    /// A graph whose BatchNorms were folded no longer holds γ, β, μ, σ²: each folded conv is written with an
    /// identity BatchNorm that reproduces it exactly in float32 (see `RecognizedModel.weights(epsilon:)`).
    /// `epsilon` is the target model's BN epsilon for those identities; by default the target's usual one
    /// (timm: 1e-3 for a TF-SAME graph (`tf_` models), 1e-5 otherwise; torchvision and Keras 1e-3).
    public static func export(_ graph: Graph, naming: NamingScheme, epsilon: Float? = nil) throws -> ExportedCheckpoint
    {
        let recognized = try GraphRecognizer.recognize(graph)
        let eps = epsilon ?? defaultEpsilon(naming, padding: recognized.padding)
        var notes = [String]()
        if recognized.batchNormFolded {
            notes.append(
                "BatchNorm was folded into the convolutions: wrote identity BatchNorms (γ=1, β=bias, μ=0, "
                    + "σ²=1−ε rounded so that σ²+ε = 1 in float32) for ε = \(eps); load into a model with that epsilon")
        }
        notes += paddingNotes(recognized.padding, naming: naming)
        let tensors = try export(
            structure: recognized.structure, weights: recognized.weights(epsilon: eps), naming: naming)
        return ExportedCheckpoint(tensors: tensors, scheme: naming, structure: recognized.structure, notes: notes)
    }

    /// A checkpoint renamed to another scheme (values unchanged, layouts converted).
    public static func rename(
        _ checkpoint: Checkpoint, to naming: NamingScheme, architecture: Architecture? = nil
    ) throws -> ExportedCheckpoint {
        let detected = try ArchitectureDetector.detect(checkpoint, architecture: architecture)
        let weights = try ModelWeights(checkpoint, detection: detected)
        var notes = paddingNotes(detected.architecture.padding, naming: naming)
        let eps = detected.architecture.batchNormEpsilon
        if naming != detected.scheme, eps != defaultEpsilon(naming, padding: detected.architecture.padding) {
            notes.append("the weights were trained with BatchNorm ε = \(eps); build the \(naming) model with that ε")
        }
        let tensors = try export(structure: detected.structure, weights: weights, naming: naming)
        return ExportedCheckpoint(tensors: tensors, scheme: naming, structure: detected.structure, notes: notes)
    }

    /// Canonical weights of `structure` under `naming`, after checking the framework can build that structure.
    public static func export(
        structure: NetworkStructure, weights: ModelWeights, naming: NamingScheme
    ) throws -> [(String, Tensor)] {
        try checkRepresentable(structure, naming: naming)
        return try weights.schemeTensors(naming, structure: structure)
    }

    static func defaultEpsilon(_ naming: NamingScheme, padding: PaddingStyle) -> Float {
        naming == .timm && padding == .symmetric ? 1e-5 : 1e-3
    }

    private static func paddingNotes(_ padding: PaddingStyle, naming: NamingScheme) -> [String] {
        switch (padding, naming) {
        case (.tfSame, .torchvision):
            ["the weights expect TF SAME padding; torchvision pads symmetrically, so outputs will differ"]
        case (.symmetric, .keras):
            ["the weights expect symmetric padding; Keras pads SAME, so outputs will differ"]
        case (.symmetric, .efficientnetPytorch):
            ["the weights expect symmetric padding; efficientnet-pytorch pads SAME, so outputs will differ"]
        case (.tfSame, .timm): ["load into a timm tf_ model (TF SAME padding)"]
        case (.symmetric, .timm): ["load into a timm non-tf_ model (symmetric padding)"]
        default: []
        }
    }

    /// What each framework's EfficientNetV2 class can build: torchvision and Keras derive their optional convs from
    /// the channel counts (an expansion or projection exists exactly when the width changes), and torchvision's
    /// MBConv always has SE while its Fused-MBConv never does.
    static func checkRepresentable(_ structure: NetworkStructure, naming: NamingScheme) throws {
        if naming == .keras, structure.isKerasV1, structure.blocks.contains(where: { $0.seChannels == nil }) {
            // Keras's EfficientNet (V1) has squeeze-excitation in every block; it has no Lite.
            throw CheckpointError.notRepresentable(
                scheme: naming, reason: "an MBConv without SE (EfficientNet-Lite): Keras's EfficientNet has SE in every block")
        }
        for b in structure.blocks {
            let at = "block \(b.stage).\(b.index)"
            switch (naming, b.kind) {
            case (.timm, _): continue
            case (.efficientnetPytorch, .fusedMBConv):
                throw CheckpointError.notRepresentable(scheme: naming, reason: "\(at): a Fused-MBConv (EfficientNetV2)")
            case (.efficientnetPytorch, .mbconv): continue
            case (.torchvision, .fusedMBConv), (.keras, .fusedMBConv):
                // An unexpanded Fused-MBConv is one k×k conv there; timm's rw `er_e1` block (with projection) is not.
                if b.hasProjection, b.midChannels == b.inChannels {
                    throw CheckpointError.notRepresentable(
                        scheme: naming,
                        reason: "\(at): a Fused-MBConv with a projection but no expansion (\(b.inChannels) channels)")
                }
                if naming == .torchvision, b.seChannels != nil {
                    throw CheckpointError.notRepresentable(scheme: naming, reason: "\(at): a Fused-MBConv with SE")
                }
            case (.torchvision, .mbconv), (.keras, .mbconv):
                if b.hasExpansion != (b.midChannels != b.inChannels) {
                    throw CheckpointError.notRepresentable(
                        scheme: naming, reason: "\(at): an MBConv expansion conv that keeps \(b.inChannels) channels")
                }
                if naming == .torchvision, b.seChannels == nil {
                    throw CheckpointError.notRepresentable(scheme: naming, reason: "\(at): an MBConv without SE")
                }
            }
        }
    }
}
