import CProtobufC
import ONNXProto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Tensors stored outside the model file (`data_location: EXTERNAL`), as `torch.onnx.export` writes models over
/// 2 GiB and as `effnet convert --external-data` writes them.
///
/// `external_data` holds `location` (a path relative to the model's folder), optional `offset` and `length`
/// (decimal strings) and an optional `checksum` (ignored). A model file is untrusted input, so the location must
/// stay inside the model's folder: absolute paths, `..` components that climb above it, and symbolic links that
/// resolve outside it are refused, as onnx's own loader does. The range is checked against the file's size
/// before reading, and only that range is read (`pread`). Each data file is opened once per model.
final class ONNXExternalData {
    let modelFile: String
    let folder: String
    private var resolvedFolder: String?
    private var files = [String: InputFile]()

    init(modelFile: String, folder: String) {
        self.modelFile = modelFile
        self.folder = folder
    }

    /// The resolved paths of the data files opened so far.
    var openedFiles: [String] { files.keys.sorted() }

    /// The `byteCount` bytes of one tensor.
    func read(_ proto: Onnx__TensorProto, tensor: String, byteCount: Int, typeText: String) throws -> [UInt8] {
        func fail(_ problem: String) -> ONNXReadError {
            .externalData(file: modelFile, tensor: tensor, problem: problem)
        }
        var keys = [String: String]()
        for entry in ONNXC.buffer(proto.external_data, proto.n_external_data) {
            guard let entry else { continue }
            keys[ONNXC.string(entry.pointee.key)] = ONNXC.string(entry.pointee.value)
        }
        guard let location = keys["location"], !location.isEmpty else { throw fail("no 'location' key") }
        func number(_ key: String) throws -> Int? {
            guard let text = keys[key] else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw fail("\(key) '\(text)' is not a non-negative integer")
            }
            return value
        }
        let offset = try number("offset") ?? 0
        let length = try number("length")

        let file = try open(location, fail: fail)
        guard offset <= file.size else {
            throw fail("offset \(offset) is past the end of '\(location)' (\(file.size) bytes)")
        }
        let available = file.size - offset
        if let length {
            guard length <= available else {
                throw fail("offset \(offset) + length \(length) is past the end of '\(location)' (\(file.size) bytes)")
            }
            guard length == byteCount else {
                throw fail("\(typeText) needs \(byteCount) bytes, but its length in '\(location)' is \(length)")
            }
        } else {
            guard byteCount <= available else {
                throw fail(
                    "\(typeText) needs \(byteCount) bytes, '\(location)' holds \(available) after offset \(offset)")
            }
        }
        do {
            return try file.read(offset: offset, count: byteCount)
        } catch {
            throw fail("cannot read '\(location)': \(error.reason)")
        }
    }

    /// Opens (once) the data file at `location`, after checking it cannot leave the model's folder.
    private func open(_ location: String, fail: (String) -> ONNXReadError) throws -> InputFile {
        guard !location.hasPrefix("/") else {
            throw fail("location '\(location)' is an absolute path; it must be relative to the model's folder")
        }
        var depth = 0
        for component in location.split(separator: "/", omittingEmptySubsequences: true) {
            if component == ".." { depth -= 1 } else if component != "." { depth += 1 }
            guard depth >= 0 else { throw fail("location '\(location)' escapes the model's folder") }
        }
        let root = try resolveFolder(fail: fail)
        let joined = folder + "/" + location
        guard let resolved = Self.realPath(joined) else {
            let reason =
                errno == ENOENT ? "not found beside the model" : "cannot be opened: " + InputFile.errnoText()
            throw fail("data file '\(location)' \(reason)")
        }
        guard resolved.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw fail(
                "location '\(location)' resolves to '\(resolved)', outside the model's folder (a symbolic link?)")
        }
        if let cached = files[resolved] { return cached }
        do {
            let file = try InputFile(path: resolved)
            files[resolved] = file
            return file
        } catch {
            throw fail("cannot open '\(location)': \(error.reason)")
        }
    }

    private func resolveFolder(fail: (String) -> ONNXReadError) throws -> String {
        if let resolvedFolder { return resolvedFolder }
        guard let root = Self.realPath(folder) else {
            throw fail("the model's folder '\(folder)' cannot be resolved: \(InputFile.errnoText())")
        }
        resolvedFolder = root
        return root
    }

    /// `realpath(3)`: the canonical absolute path with every symbolic link resolved, or nil (see `errno`).
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
