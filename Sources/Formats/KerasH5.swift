import CHDF5
import Foundation
import IR

/// Keras weights in HDF5, read through libhdf5: the three layouts Keras has written.
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
/// Tensors are named `layer/variable` as `model.weights` paths are, read as float32 (HDF5 converts other float
/// widths), and every dataset's size is checked against the bytes it stores before it is read.
public enum KerasH5 {
    /// The serial libhdf5 Debian ships is not thread-safe: one read at a time, process-wide.
    static let libraryLock = NSLock()

    public static func read(contentsOf path: String) throws -> [NamedTensor] {
        try libraryLock.withLock { try read(try H5File(path: path)) }
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
        return try libraryLock.withLock { try read(try H5File(image: image, name: path + ":model.weights.h5")) }
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
        if file.exists("/layers"), let layers = try? file.group("/layers") {
            var out: [NamedTensor] = []
            try readKeras3(layers, file: file, into: &out)
            guard !out.isEmpty else { throw file.bad("the Keras 3 weights file holds no variables") }
            return out
        }
        if root.hasAttribute("layer_names") || root.hasAttribute("layer_names0") {
            return try readLegacy(root, file: file)
        }
        if file.exists("/model_weights") {
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

    static func readKeras3(_ layers: H5Object, file: H5File, into out: inout [NamedTensor]) throws {
        for auto in try layers.children() {
            let layer = try layers.group(auto)
            if layer.exists("layers") { try readKeras3(try layer.group("layers"), file: file, into: &out) }
            guard layer.exists("vars") else { continue }
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

/// An open HDF5 file (closed in `deinit`). libhdf5's error printing is silenced; failures become
/// `WeightFileError`s naming the file.
final class H5File {
    let name: String
    let id: hid_t

    init(path: String) throws {
        effnet_h5_silence()
        name = path
        // Open errors in the reader's own words: HDF5's say only "unable to open file".
        do {
            _ = try InputFile(path: path)
        } catch {
            throw WeightFileError.cannotOpen(file: path, reason: error.reason)
        }
        id = H5Fopen(path, effnet_h5_read_only(), effnet_h5_default())
        guard id >= 0 else { throw WeightFileError.malformed(file: path, detail: "not a readable HDF5 file") }
    }

    init(image bytes: [UInt8], name: String) throws {
        effnet_h5_silence()
        self.name = name
        let fapl = H5Pcreate(effnet_h5_file_access())
        defer { H5Pclose(fapl) }
        var opened: hid_t = -1
        bytes.withUnsafeBytes { raw in
            // H5Pset_file_image copies the image into the property list; the core driver reads from that copy.
            if H5Pset_fapl_core(fapl, 1 << 16, false) >= 0,
                H5Pset_file_image(fapl, UnsafeMutableRawPointer(mutating: raw.baseAddress), raw.count) >= 0
            {
                opened = H5Fopen(name, effnet_h5_read_only(), fapl)
            }
        }
        id = opened
        guard id >= 0 else { throw WeightFileError.malformed(file: name, detail: "not a readable HDF5 file") }
    }

    deinit { H5Fclose(id) }

    func bad(_ detail: String) -> WeightFileError { .malformed(file: name, detail: detail) }

    func exists(_ path: String) -> Bool { H5Lexists(id, path, effnet_h5_default()) > 0 }

    func group(_ path: String) throws -> H5Object {
        let g = H5Gopen2(id, path, effnet_h5_default())
        guard g >= 0 else { throw bad("no group '\(path)'") }
        return H5Object(id: g, file: self, path: path, isDataset: false)
    }
}

/// An open group or dataset (closed in `deinit`).
final class H5Object {
    let id: hid_t
    let file: H5File
    let path: String
    let isDataset: Bool

    init(id: hid_t, file: H5File, path: String, isDataset: Bool) {
        self.id = id
        self.file = file
        self.path = path
        self.isDataset = isDataset
    }

    deinit { if isDataset { H5Dclose(id) } else { H5Gclose(id) } }

    private func bad(_ detail: String) -> WeightFileError { file.bad("'\(path)': \(detail)") }

    func exists(_ name: String) -> Bool { H5Lexists(id, name, effnet_h5_default()) > 0 }

    func group(_ name: String) throws -> H5Object {
        guard exists(name) else { throw bad("has no group '\(name)'") }
        let g = H5Gopen2(id, name, effnet_h5_default())
        guard g >= 0 else { throw bad("'\(name)' is not a group") }
        return H5Object(id: g, file: file, path: path + "/" + name, isDataset: false)
    }

    func dataset(_ name: String) throws -> H5Object {
        // Each component must exist before it is opened (HDF5 reports a missing intermediate only as failure).
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            guard exists(prefix) else { throw bad("lists weight '\(name)', which it does not hold") }
        }
        let d = H5Dopen2(id, name, effnet_h5_default())
        guard d >= 0 else { throw bad("'\(name)' is not a dataset") }
        return H5Object(id: d, file: file, path: path + "/" + name, isDataset: true)
    }

    /// Link names in the group, in name order.
    func children() throws -> [String] {
        var info = H5G_info_t()
        guard H5Gget_info(id, &info) >= 0 else { throw bad("cannot list its members") }
        guard info.nlinks <= 1 << 20 else { throw bad("has \(info.nlinks) members") }
        return try (0..<info.nlinks).map { i in
            let n = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, effnet_h5_default())
            guard n >= 0, n < 1 << 16 else { throw bad("cannot name member \(i)") }
            var buffer = [CChar](repeating: 0, count: Int(n) + 1)
            H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, effnet_h5_default())
            return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    func hasAttribute(_ name: String) -> Bool { H5Aexists(id, name) > 0 }

    /// A string attribute (scalar or the first element).
    func string(attribute name: String) throws -> String {
        guard let first = try strings(attribute: name).first else { throw bad("attribute '\(name)' is empty") }
        return first
    }

    /// `name`, or `name0`, `name1`, … joined, as Keras splits attributes past 64 KB.
    func strings(splitAttribute name: String) throws -> [String] {
        if hasAttribute(name) { return try strings(attribute: name) }
        var out: [String] = []
        var k = 0
        while hasAttribute("\(name)\(k)") {
            out += try strings(attribute: "\(name)\(k)")
            k += 1
        }
        guard k > 0 else { throw bad("has no '\(name)' attribute") }
        return out
    }

    /// The elements of a string attribute: variable-length (h5py, Keras 3) or fixed-length (TF-Keras 2).
    func strings(attribute name: String) throws -> [String] {
        let a = H5Aopen(id, name, effnet_h5_default())
        guard a >= 0 else { throw bad("has no attribute '\(name)'") }
        defer { H5Aclose(a) }
        let type = H5Aget_type(a)
        defer { H5Tclose(type) }
        let space = H5Aget_space(a)
        defer { H5Sclose(space) }
        let n = Int(H5Sget_simple_extent_npoints(space))
        guard n >= 0, n <= 1 << 24 else { throw bad("attribute '\(name)' has \(n) elements") }
        if n == 0 { return [] }  // h5py writes an empty list as an empty float array
        guard H5Tget_class(type) == H5T_STRING else { throw bad("attribute '\(name)' is not text") }
        let mem = H5Tcopy(effnet_h5_c_string())
        defer { H5Tclose(mem) }
        if H5Tis_variable_str(type) > 0 {
            H5Tset_size(mem, effnet_h5_variable())
            H5Tset_cset(mem, H5Tget_cset(type))
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            guard H5Aread(a, mem, &pointers) >= 0 else { throw bad("cannot read attribute '\(name)'") }
            defer { H5Dvlen_reclaim(mem, space, effnet_h5_default(), &pointers) }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(type)
        guard size > 0, size <= 1 << 16 else { throw bad("attribute '\(name)' has \(size)-byte strings") }
        H5Tset_size(mem, size)
        H5Tset_strpad(mem, H5T_STR_NULLPAD)  // all `size` bytes are text (null-terminated would drop the last)
        var bytes = [UInt8](repeating: 0, count: n * size)
        guard H5Aread(a, mem, &bytes) >= 0 else { throw bad("cannot read attribute '\(name)'") }
        return (0..<n).map { i in
            let s = bytes[(i * size)..<((i + 1) * size)]
            return String(decoding: s.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The dataset as a float32 tensor; its size is checked against the bytes the file stores for it.
    func floatTensor() throws -> Tensor {
        let type = H5Dget_type(id)
        defer { H5Tclose(type) }
        guard H5Tget_class(type) == H5T_FLOAT else { throw bad("is not floating-point") }
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0, rank <= 8 else { throw bad("has rank \(rank)") }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        let shape = dims.map { Int(clamping: $0) }
        guard let bytes = checkedByteCount(shape: shape, elementSize: 4) else { throw bad("has shape \(shape)") }
        let stored = Int(clamping: H5Dget_storage_size(id))
        let elementSize = max(1, Int(H5Tget_size(type)))
        // Uncompressed storage holds every element; filters (gzip) can shrink it, at most deflate's 1032:1.
        guard bytes / 4 * elementSize <= stored.multipliedReportingOverflow(by: 1032).partialValue + 4096 else {
            throw bad("declares shape \(shape) but stores \(stored) bytes")
        }
        var floats = [Float](repeating: 0, count: bytes / 4)
        let status = floats.withUnsafeMutableBytes {
            H5Dread(id, effnet_h5_native_float(), effnet_h5_all(), effnet_h5_all(), effnet_h5_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw bad("cannot be read") }
        return Tensor(shape: shape, floats: floats)
    }
}
