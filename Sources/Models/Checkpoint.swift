import IR

/// A framework state dict held in memory: named tensors in their original order.
///
/// Names are normalized on the way in, so that wrappers do not defeat detection: a prefix every name shares
/// (`module.` from DataParallel, `model.`, `_orig_mod.` from `torch.compile`, a Keras model name `efficientnetv2-s/`)
/// and TensorFlow's `:0` variable suffix are dropped. Errors name tensors by their normalized names;
/// `originalName(of:)` maps back.
public struct Checkpoint: Sendable {
    /// Normalized names, in checkpoint order.
    public private(set) var names: [String]
    public private(set) var tensors: [String: Tensor]
    /// What normalization did, for `inspect` and error messages.
    public private(set) var notes: [String]
    private var originals: [String: String]

    public init(tensors list: [(String, Tensor)]) {
        var raw = list.map {
            (
                name: Checkpoint.kerasThreeName(Checkpoint.collapseDoubledScope(Checkpoint.stripVariableSuffix($0.0))),
                original: $0.0, tensor: $0.1
            )
        }
        var notes = [String]()
        if raw.contains(where: { $0.name != $0.original }) {
            notes.append("normalized TensorFlow/Keras 2 names (':0' suffixes, doubled scopes, 'depthwise_kernel')")
        }
        // Strip shared wrapper prefixes, one component at a time.
        while let prefix = Checkpoint.sharedWrapperPrefix(raw.map(\.name)) {
            raw = raw.map { (String($0.name.dropFirst(prefix.count)), $0.original, $0.tensor) }
            notes.append("dropped the prefix '\(prefix)' shared by every tensor name")
        }
        var names = [String]()
        var tensors = [String: Tensor]()
        var originals = [String: String]()
        for entry in raw {
            if tensors[entry.name] != nil {
                notes.append("'\(entry.original)' duplicates '\(originals[entry.name]!)'; kept the first")
                continue
            }
            names.append(entry.name)
            tensors[entry.name] = entry.tensor
            originals[entry.name] = entry.original
        }
        self.names = names
        self.tensors = tensors
        self.notes = notes
        self.originals = originals
    }

    /// A checkpoint from an unordered dictionary (names sorted, so that results do not depend on hashing).
    public init(_ dictionary: [String: Tensor]) {
        self.init(tensors: dictionary.keys.sorted().map { ($0, dictionary[$0]!) })
    }

    public subscript(name: String) -> Tensor? { tensors[name] }

    /// Name → shape, in checkpoint order: all that detection looks at.
    public var layout: [(name: String, shape: [Int])] { names.map { ($0, tensors[$0]!.shape) } }

    /// The name as it was in the file.
    public func originalName(of name: String) -> String { originals[name] ?? name }

    /// Every tensor, in order, under its normalized name.
    public var entries: [(String, Tensor)] { names.map { ($0, tensors[$0]!) } }

    // MARK: - Normalization

    static func stripVariableSuffix(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":"), name[name.index(after: colon)...].allSatisfy(\.isNumber),
            colon != name.index(before: name.endIndex)
        else { return name }
        return String(name[..<colon])
    }

    /// Keras 2 called a depthwise kernel `dwconv2/depthwise_kernel`; Keras 3 calls it `dwconv2/kernel`.
    static func kerasThreeName(_ name: String) -> String {
        name.hasSuffix("/depthwise_kernel") ? String(name.dropLast("depthwise_kernel".count)) + "kernel" : name
    }

    /// h5 files from TF Keras 2 repeat the layer scope: `stem_conv/stem_conv/kernel` → `stem_conv/kernel`.
    static func collapseDoubledScope(_ name: String) -> String {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[parts.count - 3] == parts[parts.count - 2] else { return name }
        return (parts[..<(parts.count - 2)] + [parts[parts.count - 1]]).joined(separator: "/")
    }

    /// Wrapper prefixes that never name a layer of an EfficientNetV2.
    private static let wrappers: Set<String> = ["module", "model", "_orig_mod", "state_dict", "net", "backbone"]

    /// A first component (with its separator) shared by every name that is a known wrapper, or a Keras model name
    /// (`efficientnetv2-s/`); nil when names start at the layers already.
    static func sharedWrapperPrefix(_ names: [String]) -> String? {
        guard let first = names.first else { return nil }
        for sep: Character in [".", "/"] {
            guard let cut = first.firstIndex(of: sep) else { continue }
            let head = String(first[..<cut])
            let prefix = head + String(sep)
            guard names.allSatisfy({ $0.hasPrefix(prefix) && $0.count > prefix.count }) else { continue }
            if wrappers.contains(head) { return prefix }
            // Keras: a model-name scope such as `efficientnetv2-s/…`.
            if sep == "/", head.lowercased().hasPrefix("efficientnet") || head == "functional" { return prefix }
        }
        return nil
    }
}
