import Foundation
import IR

/// Keras weights in HDF5, read by effnet's own HDF5 reader (`HDF5File`): the three layouts Keras has written.
///
/// - Legacy `.h5` (TF-Keras 2 `save_weights`, Keras applications' `efficientnetv2-*.h5`, and `model.save("x.h5")`
///   under `/model_weights`): the `layer_names` attribute lists the layers, each layer group's `weight_names`
///   attribute its variables as paths inside the group (`stem_conv/kernel:0`). Attributes past HDF5's 64 KB header
///   limit are split into `layer_names0`, `layer_names1`, … and are joined back in order.
/// - Keras 3 `.weights.h5`: `/layers/<auto name>/vars/0..n`, the layer's real name in the `vars` group's `name`
///   attribute and the variables' names implied by the layer's type (`conv2d`: kernel, bias; `batch_normalization`:
///   gamma, beta, moving_mean, moving_variance; …).
/// - `.keras`: a zip whose `model.weights.h5` member is the Keras 3 layout, opened from memory.
///
/// Tensors are named `layer/variable` as `model.weights` paths are, read as float32 (float16 and float64 are
/// converted), and every dataset's size is checked against the bytes it stores before it is read.
public enum KerasH5 {
    public static func read(contentsOf path: String) throws -> [NamedTensor] {
        let input: InputFile
        do {
            input = try InputFile(path: path)
        } catch {
            throw WeightFileError.cannotOpen(file: path, reason: error.reason)
        }
        return try input.withMappedBytes { try read(try H5File(bytes: $0, name: path)) }
    }

    /// A `.keras` archive: its `model.weights.h5` member.
    public static func readArchive(contentsOf path: String) throws -> [NamedTensor] {
        let input: InputFile
        do {
            input = try InputFile(path: path)
        } catch {
            throw WeightFileError.cannotOpen(file: path, reason: error.reason)
        }
        let image = try input.withMappedBytes { bytes -> [UInt8] in
            let directory = try ZipDirectory(archive: bytes, file: path)
            guard let entry = directory.entries.first(where: { $0.name == "model.weights.h5" }) else {
                throw WeightFileError.malformed(file: path, detail: "a .keras archive without model.weights.h5")
            }
            return try directory.memberBytes(entry)
        }
        return try image.withUnsafeBytes { try read(try H5File(bytes: $0, name: path + ":model.weights.h5")) }
    }

    /// The `config.json` member of a `.keras` archive (the model's architecture as Keras saved it), nil when the
    /// archive has none. A config is a few hundred KB at most; a member over 16 MB is refused before inflating.
    public static func archiveConfig(contentsOf path: String) throws -> [UInt8]? {
        let input: InputFile
        do {
            input = try InputFile(path: path)
        } catch {
            throw WeightFileError.cannotOpen(file: path, reason: error.reason)
        }
        return try input.withMappedBytes { bytes -> [UInt8]? in
            let directory = try ZipDirectory(archive: bytes, file: path)
            guard let entry = directory.entries.first(where: { $0.name == "config.json" }) else { return nil }
            guard entry.uncompressedSize <= 16 << 20 else {
                throw WeightFileError.malformed(
                    file: path, detail: "config.json member of \(entry.uncompressedSize) bytes (limit 16 MB)")
            }
            return try directory.memberBytes(entry)
        }
    }

    static func read(_ file: H5File) throws -> [NamedTensor] {
        let root = try file.group("/")
        if try file.exists("/layers"), let layers = try? file.group("/layers") {
            var out: [NamedTensor] = []
            var visited: Set<Int> = []
            try readKeras3(layers, file: file, depth: 0, visited: &visited, into: &out)
            guard !out.isEmpty else { throw file.bad("the Keras 3 weights file holds no variables") }
            return out
        }
        if try root.hasAttribute("layer_names") || root.hasAttribute("layer_names0") {
            return try readLegacy(root, file: file)
        }
        if try file.exists("/model_weights") {
            return try readLegacy(try file.group("/model_weights"), file: file)
        }
        throw file.bad("an HDF5 file without Keras weights (no /layers, layer_names or /model_weights)")
    }

    // MARK: - Legacy

    static func readLegacy(_ group: H5Object, file: H5File) throws -> [NamedTensor] {
        var out: [NamedTensor] = []
        for layer in try group.strings(splitAttribute: "layer_names") {
            let g = try group.group(layer)
            for weight in try g.strings(splitAttribute: "weight_names") {
                // Normalization's integer sample count (EfficientNet V1) is not a weight effnet uses.
                if layer.hasPrefix("normalization"), weight.hasSuffix("/count") || weight.hasSuffix("/count:0") {
                    continue
                }
                out.append(NamedTensor(name: weight, tensor: try g.dataset(weight).floatTensor()))
            }
        }
        return out
    }

    // MARK: - Keras 3

    /// Variable names by position, per layer type (the auto name without its `_N` suffix).
    static let variableNames: [String: [String]] = [
        "conv2d": ["kernel", "bias"], "depthwise_conv2d": ["kernel", "bias"], "dense": ["kernel", "bias"],
        "batch_normalization": ["gamma", "beta", "moving_mean", "moving_variance"],
        "normalization": ["mean", "variance", "count"],
    ]

    static let maxNesting = 32

    /// `visited` holds the object headers of the `layers` groups read so far: a group linked from inside itself
    /// (a cycle) is an error, not an endless recursion; nesting deeper than `maxNesting` is refused too.
    static func readKeras3(
        _ layers: H5Object, file: H5File, depth: Int, visited: inout Set<Int>, into out: inout [NamedTensor]
    ) throws {
        guard visited.insert(layers.header.address).inserted else {
            throw file.bad("'\(layers.path)' is reached twice (a group that contains itself)")
        }
        guard depth < maxNesting else { throw file.bad("'\(layers.path)' nests layers more than \(maxNesting) deep") }
        for auto in try layers.children() {
            let layer = try layers.group(auto)
            if try layer.exists("layers") {
                try readKeras3(try layer.group("layers"), file: file, depth: depth + 1, visited: &visited, into: &out)
            }
            guard try layer.exists("vars") else { continue }
            let vars = try layer.group("vars")
            let count = try vars.children().count
            guard count > 0 else { continue }
            let name = (try? vars.string(attribute: "name")) ?? auto
            var kind = auto
            if let cut = kind.lastIndex(of: "_"), kind[kind.index(after: cut)...].allSatisfy(\.isNumber) {
                kind = String(kind[..<cut])
            }
            guard let names = variableNames[kind], count <= names.count else {
                throw WeightFileError.unsupported(
                    file: file.name, detail: "layer '\(name)' (\(auto)) has \(count) variables of a kind effnet does not map")
            }
            for i in 0..<count {
                if kind == "normalization", names[i] == "count" { continue }  // an integer sample count, unused
                let t = try vars.dataset(String(i)).floatTensor()
                out.append(NamedTensor(name: "\(name)/\(names[i])", tensor: t))
            }
        }
    }
}

/// An HDF5 file image open for one read, with the error helpers the Keras layouts use.
final class H5File {
    let name: String
    let file: HDF5File

    /// `bytes` must stay valid while the file is used (a mapped file, an archive member's array).
    init(bytes: UnsafeRawBufferPointer, name: String) throws {
        self.name = name
        file = try HDF5File(bytes: bytes, name: name)
    }

    func bad(_ detail: String) -> WeightFileError { .malformed(file: name, detail: detail) }

    var root: H5Object { get throws { H5Object(header: try file.header(at: file.rootAddress), file: self, path: "") } }

    func exists(_ path: String) throws -> Bool { try root.resolve(path) != nil }

    func group(_ path: String) throws -> H5Object {
        guard let g = try root.resolve(path), g.isGroup else { throw bad("no group '\(path)'") }
        return g
    }
}

/// A group or dataset of an `H5File`: its object header and its path (for messages).
struct H5Object {
    let header: HDF5ObjectHeader
    let file: H5File
    let path: String

    private func bad(_ detail: String) -> WeightFileError { file.bad("'\(path)': \(detail)") }

    var isDataset: Bool { header.first(HDF5Message.layout) != nil }
    var isGroup: Bool {
        !isDataset
            && header.messages.contains {
                [HDF5Message.symbolTable, HDF5Message.linkInfo, HDF5Message.link, 0x0A].contains($0.type)
            }
    }

    /// The object at `relative` (components separated by `/`; a leading `/` or an empty path is this object), nil
    /// when a component does not exist. Soft and external links are refused.
    func resolve(_ relative: String) throws -> H5Object? {
        var object = self
        for part in relative.split(separator: "/") where part != "." {
            guard object.isGroup else { return nil }
            let links = try file.file.links(of: object.header, path: object.path)
            guard let link = links[String(part)] else { return nil }
            let path = object.path + "/" + part
            guard case .hard(let address) = link.target else {
                throw WeightFileError.unsupported(
                    file: file.name, detail: "'\(path)' is a soft or external link, which effnet does not follow")
            }
            object = H5Object(header: try file.file.header(at: address), file: file, path: path)
        }
        return object
    }

    func exists(_ name: String) throws -> Bool { try resolve(name) != nil }

    func group(_ name: String) throws -> H5Object {
        guard let g = try resolve(name) else { throw bad("has no group '\(name)'") }
        guard g.isGroup else { throw bad("'\(name)' is not a group") }
        return g
    }

    func dataset(_ name: String) throws -> H5Object {
        guard let d = try resolve(name) else { throw bad("lists weight '\(name)', which it does not hold") }
        guard d.isDataset else { throw bad("'\(name)' is not a dataset") }
        return d
    }

    /// Link names in the group, in byte order of their UTF-8 (as libhdf5 lists them by name).
    func children() throws -> [String] {
        try file.file.links(of: header, path: path).keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    func attribute(_ name: String) throws -> HDF5Attribute? {
        try file.file.attributes(of: header, path: path).first { $0.name == name }
    }

    func hasAttribute(_ name: String) throws -> Bool { try attribute(name) != nil }

    /// A string attribute (scalar or the first element).
    func string(attribute name: String) throws -> String {
        guard let first = try strings(attribute: name).first else { throw bad("attribute '\(name)' is empty") }
        return first
    }

    /// `name`, or `name0`, `name1`, … joined, as Keras splits attributes past 64 KB.
    func strings(splitAttribute name: String) throws -> [String] {
        if try hasAttribute(name) { return try strings(attribute: name) }
        var out: [String] = []
        var k = 0
        while try hasAttribute("\(name)\(k)") {
            out += try strings(attribute: "\(name)\(k)")
            k += 1
        }
        guard k > 0 else { throw bad("has no '\(name)' attribute") }
        return out
    }

    /// The elements of a string attribute: variable-length (h5py, Keras 3) or fixed-length (TF-Keras 2).
    func strings(attribute name: String) throws -> [String] {
        guard let a = try attribute(name) else { throw bad("has no attribute '\(name)'") }
        guard a.space.count <= 1 << 24 else { throw bad("attribute '\(name)' has \(a.space.count) elements") }
        if a.space.count == 0 { return [] }  // h5py writes an empty list as an empty float array
        guard a.type.isString else { throw bad("attribute '\(name)' is not text") }
        return try file.file.strings(a, path: path)
    }

    /// The dataset as a float32 tensor; its size is checked against the bytes the file stores for it.
    func floatTensor() throws -> Tensor { try file.file.floatTensor(header, path: path) }
}
