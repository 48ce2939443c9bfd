/// Why a checkpoint cannot be read as an EfficientNetV2, or a graph cannot be written as a checkpoint.
///
/// `mismatch` mirrors PyTorch's strict `load_state_dict`: it lists *every* missing, unexpected and wrongly shaped
/// tensor at once, so one run shows the whole difference.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    case empty
    /// No stem tensor of any scheme; carries a few names to show what the file holds.
    case unknownScheme(sampleNames: [String])
    case unknownArchitecture(String, known: [String])
    /// `--arch` names a variant of another framework than the checkpoint's names.
    case schemeMismatch(architecture: String, expected: NamingScheme, found: NamingScheme)
    case stageCountMismatch(architecture: String, expected: Int, found: Int)
    /// No EfficientNetV2 variant has this many stages.
    case unsupportedStageCount(Int, scheme: NamingScheme)
    case mismatch(architecture: String, missing: [String], unexpected: [String], wrongShape: [ShapeMismatch])
    case cannotInfer(String)
    case invalidTensor(name: String, problem: String)
    /// Export: the structure has something the target framework's model cannot express.
    case notRepresentable(scheme: NamingScheme, reason: String)

    public struct ShapeMismatch: Equatable, Sendable {
        public var name: String
        public var expected: [Int]
        public var actual: [Int]
        public init(name: String, expected: [Int], actual: [Int]) {
            self.name = name
            self.expected = expected
            self.actual = actual
        }
    }

    public var description: String {
        switch self {
        case .empty: return "the checkpoint holds no tensors"
        case .unknownScheme(let sample):
            return "not an EfficientNetV2 checkpoint: no timm (conv_stem.weight), torchvision (features.0.0.weight) or "
                + "Keras (stem_conv/kernel) stem; first names: " + sample.map { "'\($0)'" }.joined(separator: ", ")
        case .unknownArchitecture(let name, let known):
            return "unknown architecture '\(name)'; known: " + known.joined(separator: ", ")
        case .schemeMismatch(let arch, let expected, let found):
            return "architecture '\(arch)' expects \(expected) tensor names, the checkpoint has \(found) names"
        case .stageCountMismatch(let arch, let expected, let found):
            return "architecture '\(arch)' has \(expected) stages, the checkpoint has \(found)"
        case .unsupportedStageCount(let n, let scheme):
            return "the checkpoint (\(scheme) names) has \(n) stages; EfficientNetV2 variants have 6 or 7 "
                + "(use --arch to choose one)"
        case .mismatch(let arch, let missing, let unexpected, let wrong):
            var parts = [String]()
            if !missing.isEmpty { parts.append("missing \(Self.list(missing))") }
            if !unexpected.isEmpty { parts.append("unexpected \(Self.list(unexpected))") }
            if !wrong.isEmpty {
                parts.append(
                    "wrong shape "
                        + wrong.map { "'\($0.name)' (expected \($0.expected), found \($0.actual))" }
                        .joined(separator: ", "))
            }
            return "checkpoint does not match \(arch): " + parts.joined(separator: "; ")
        case .cannotInfer(let what): return "cannot infer the network from the checkpoint: \(what)"
        case .invalidTensor(let name, let problem): return "tensor '\(name)': \(problem)"
        case .notRepresentable(let scheme, let reason): return "cannot write \(scheme) names: \(reason)"
        }
    }

    private static func list(_ names: [String]) -> String {
        "\(names.count) tensor\(names.count == 1 ? "" : "s"): " + names.map { "'\($0)'" }.joined(separator: ", ")
    }
}
